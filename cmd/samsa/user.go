package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// SCRAM iteration bounds, Kafka's (and kadm's) for AlterUserScramCredentials.
const (
	minScramIterations     = 4096
	maxScramIterations     = 16384
	defaultScramIterations = 8192
	defaultScramMechanism  = "SCRAM-SHA-512"
)

// newUserCmd returns `samsa user` with create, delete and list: SCRAM
// credentials, as `kafka-configs --entity-type users` manages them.
func newUserCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Create, delete and list SCRAM users (credentials for SASL SCRAM-SHA-256/512)",
		Args:  cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(newUserCreateCmd(cf), newUserDeleteCmd(cf), newUserListCmd(cf))
	return cmd
}

// parseScramMechanism parses SCRAM-SHA-256 or SCRAM-SHA-512 (any case).
func parseScramMechanism(s string) (kadm.ScramMechanism, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "SCRAM-SHA-256":
		return kadm.ScramSha256, nil
	case "SCRAM-SHA-512":
		return kadm.ScramSha512, nil
	}
	return 0, fmt.Errorf("invalid --mechanism %q: want SCRAM-SHA-256 or SCRAM-SHA-512", s)
}

// userPassword returns the password of --password (where "-" reads the
// first line of stdin) or --password-file (its first line).
func userPassword(cmd *cobra.Command, password, file string) (string, error) {
	given := cmd.Flags().Changed("password")
	switch {
	case given && file != "":
		return "", errors.New("give --password or --password-file, not both")
	case !given && file == "":
		return "", errors.New("no password: give --password P, --password - (read from stdin) or --password-file FILE")
	case given && password != "-":
		return nonEmptyPassword(password, "--password")
	case given:
		p, err := firstLine(cmd.InOrStdin())
		if err != nil {
			return "", fmt.Errorf("cannot read the password from stdin: %w", err)
		}
		return nonEmptyPassword(p, "stdin")
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("cannot read --password-file: %w", err)
	}
	defer f.Close()
	p, err := firstLine(f)
	if err != nil {
		return "", fmt.Errorf("cannot read --password-file %s: %w", file, err)
	}
	return nonEmptyPassword(p, "--password-file "+file)
}

func nonEmptyPassword(p, from string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("the password from %s is empty", from)
	}
	return p, nil
}

// firstLine reads r's first line without its line ending.
func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

func newUserCreateCmd(cf *clientFlags) *cobra.Command {
	var (
		password, passwordFile, mechanism string
		iterations                        int32
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Set a user's SCRAM password (creating the user, or replacing its password for the mechanism)",
		Long: `Set NAME's SCRAM credential for one mechanism, as
kafka-configs --alter --entity-type users --entity-name NAME --add-config 'SCRAM-SHA-512=[iterations=8192,password=P]'
does: a random salt is drawn and the salted password computed here; the
password itself is never sent. Giving the password with --password-file or
--password - (stdin) keeps it out of the process list and shell history.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			user := args[0]
			mech, err := parseScramMechanism(mechanism)
			if err != nil {
				return err
			}
			if iterations < minScramIterations || iterations > maxScramIterations {
				return fmt.Errorf("invalid --iterations %d: must be %d to %d", iterations, minScramIterations, maxScramIterations)
			}
			pass, err := userPassword(cmd, password, passwordFile)
			if err != nil {
				return err
			}
			upsert := []kadm.UpsertSCRAM{{User: user, Mechanism: mech, Iterations: iterations, Password: pass}}
			if _, err := alterSCRAM(cmd, cf, user, nil, upsert); err != nil {
				return fmt.Errorf("cannot set the %s credential of user %s: %w", mech, user, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "set the %s credential of user %s (%d iterations)\n", mech, user, iterations)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&password, "password", "", `the password; "-" reads it from stdin`)
	fs.StringVar(&passwordFile, "password-file", "", "read the password from the first line of this file")
	fs.StringVar(&mechanism, "mechanism", defaultScramMechanism, "SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.Int32Var(&iterations, "iterations", defaultScramIterations, fmt.Sprintf("PBKDF2 iterations, %d to %d", minScramIterations, maxScramIterations))
	return cmd
}

// alterSCRAM sends one AlterUserScramCredentials request and returns the
// deletions it made and the user's error, readable (and unwrapping to the
// Kafka error). With neither deletions nor upserts it deletes every
// mechanism the user has.
func alterSCRAM(cmd *cobra.Command, cf *clientFlags, user string, del []kadm.DeleteSCRAM, upsert []kadm.UpsertSCRAM) ([]kadm.DeleteSCRAM, error) {
	adm, err := cf.newAdmin(cmd)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	ctx, cancel := cf.requestContext(cmd)
	defer cancel()
	if len(upsert) == 0 && len(del) == 0 {
		// delete without --mechanism: every mechanism the user has.
		infos, err := describeSCRAMUser(ctx, cmd, cf, adm, user)
		if err != nil {
			return nil, err
		}
		for _, ci := range infos {
			del = append(del, kadm.DeleteSCRAM{User: user, Mechanism: ci.Mechanism})
		}
	}
	res, err := adm.AlterUserSCRAMs(ctx, del, upsert)
	if err != nil {
		return nil, explainedErr{cf.explain(cmd, err), err}
	}
	r, ok := res[user]
	if !ok {
		return nil, errors.New("the broker did not answer for the user")
	}
	if r.Err != nil {
		return nil, explainedErr{cf.explainKafka(cmd, r.Err, r.ErrMessage), r.Err}
	}
	return del, nil
}

// explainedErr is an error's readable text that still unwraps to it.
type explainedErr struct {
	msg string
	err error
}

func (e explainedErr) Error() string { return e.msg }
func (e explainedErr) Unwrap() error { return e.err }

// scramNames joins the mechanisms of del with sep.
func scramNames(del []kadm.DeleteSCRAM, sep string) string {
	names := make([]string, 0, len(del))
	for _, d := range del {
		names = append(names, d.Mechanism.String())
	}
	return strings.Join(names, sep)
}

func newUserDeleteCmd(cf *clientFlags) *cobra.Command {
	var mechanism string
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a user's SCRAM credentials (every mechanism, or --mechanism's)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			user := args[0]
			var del []kadm.DeleteSCRAM
			if cmd.Flags().Changed("mechanism") {
				m, err := parseScramMechanism(mechanism)
				if err != nil {
					return err
				}
				del = append(del, kadm.DeleteSCRAM{User: user, Mechanism: m})
			}
			deleted, err := alterSCRAM(cmd, cf, user, del, nil)
			switch {
			case errors.Is(err, kerr.ResourceNotFound) && len(del) == 1:
				return fmt.Errorf("user %s has no %s credential", user, del[0].Mechanism)
			case errors.Is(err, kerr.ResourceNotFound):
				return fmt.Errorf("user %s has no SCRAM credentials", user)
			case err != nil:
				return fmt.Errorf("cannot delete the credentials of user %s: %w", user, err)
			}
			noun := "credential"
			if len(deleted) > 1 {
				noun = "credentials"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted the %s %s of user %s\n", scramNames(deleted, " and "), noun, user)
			return nil
		},
	}
	cmd.Flags().StringVar(&mechanism, "mechanism", "", "delete only this mechanism's credential: SCRAM-SHA-256 or SCRAM-SHA-512 (default: all of the user's)")
	return cmd
}

// describeSCRAMUser returns one user's credentials; a user without any is
// kerr.ResourceNotFound.
func describeSCRAMUser(ctx context.Context, cmd *cobra.Command, cf *clientFlags, adm *kadm.Client, user string) ([]kadm.CredInfo, error) {
	res, err := adm.DescribeUserSCRAMs(ctx, user)
	if err != nil {
		return nil, explainedErr{cf.explain(cmd, err), err}
	}
	r, ok := res[user]
	switch {
	case !ok, errors.Is(r.Err, kerr.ResourceNotFound), r.Err == nil && len(r.CredInfos) == 0:
		return nil, kerr.ResourceNotFound
	case r.Err != nil:
		return nil, explainedErr{cf.explainKafka(cmd, r.Err, r.ErrMessage), r.Err}
	}
	return r.CredInfos, nil
}

func newUserListCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list [NAME...]",
		Aliases: []string{"ls"},
		Short:   "List SCRAM users: user, mechanism, iterations (all users, or those named)",
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()
			res, err := adm.DescribeUserSCRAMs(ctx, args...)
			if err != nil {
				return fmt.Errorf("cannot list users: %s", cf.explain(cmd, err))
			}
			return writeSCRAMUsers(cmd, cf, res, args)
		},
	}
}

// writeSCRAMUsers prints the USER MECHANISM ITERATIONS table; users named
// but without credentials, or failing, make the command fail after it.
func writeSCRAMUsers(cmd *cobra.Command, cf *clientFlags, res kadm.DescribedUserSCRAMs, named []string) error {
	var failures []string
	tw := newTable(cmd.OutOrStdout())
	fmt.Fprintln(tw, "USER\tMECHANISM\tITERATIONS")
	for _, u := range res.Sorted() {
		switch {
		case errors.Is(u.Err, kerr.ResourceNotFound):
			failures = append(failures, fmt.Sprintf("user %s has no SCRAM credentials", u.User))
		case u.Err != nil:
			failures = append(failures, fmt.Sprintf("cannot describe user %s: %s", u.User, cf.explainKafka(cmd, u.Err, u.ErrMessage)))
		}
		for _, ci := range u.CredInfos {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", u.User, ci.Mechanism, ci.Iterations)
		}
	}
	for _, n := range named {
		if _, ok := res[n]; !ok {
			failures = append(failures, fmt.Sprintf("user %s has no SCRAM credentials", n))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}
