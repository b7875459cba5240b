package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newACLCmd returns `samsa acl` with create, list and delete.
func newACLCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Create, list and delete ACLs (kafka-acls' options)",
		Args:  cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(newACLCreateCmd(cf), newACLListCmd(cf), newACLDeleteCmd(cf))
	return cmd
}

func newACLCreateCmd(cf *clientFlags) *cobra.Command {
	f := &aclFlags{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create ACLs: every principal x host x resource x operation given",
		Long: `Create ACLs, as kafka-acls --add does: one ACL for every principal and host
(default *) crossed with every resource and --operation. --producer and
--consumer give a client's usual ACLs instead of --operation:

  samsa acl create --allow-principal User:alice --operation Read --topic orders
  samsa acl create --allow-principal User:app --producer --topic orders --idempotent
  samsa acl create --allow-principal User:app --consumer --topic orders --group billing`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			acls, err := f.entries(aclCreate)
			if err != nil {
				return err
			}
			return runACLCreate(cmd, cf, acls)
		},
	}
	f.register(cmd.Flags(), aclCreate)
	return cmd
}

func runACLCreate(cmd *cobra.Command, cf *clientFlags, acls []aclEntry) error {
	cl, err := cf.newClient(cmd)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := cf.requestContext(cmd)
	defer cancel()

	req := kmsg.NewPtrCreateACLsRequest()
	for _, a := range acls {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = a.typ, a.name, a.pattern
		c.Principal, c.Host, c.Operation, c.PermissionType = a.principal, a.host, a.op, a.perm
		req.Creations = append(req.Creations, c)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("cannot create ACLs: %s", cf.explain(cmd, err))
	}
	if len(resp.Results) != len(acls) {
		return fmt.Errorf("cannot create ACLs: the broker answered for %d of %d", len(resp.Results), len(acls))
	}
	var created []aclEntry
	var failures []string
	for i, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			failures = append(failures, fmt.Sprintf("cannot create ACL %s: %s", acls[i], cf.explainKafka(cmd, err, deref(r.ErrorMessage))))
			continue
		}
		created = append(created, acls[i])
	}
	if len(created) > 0 {
		if err := writeACLs(cmd, created); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "created %s\n", plural(int64(len(created)), "ACL", "ACLs"))
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}

func newACLListCmd(cf *clientFlags) *cobra.Command {
	f := &aclFlags{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List ACLs: all, or those matching the principal, host, operation and resource flags",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			filters, err := f.entries(aclList)
			if err != nil {
				return err
			}
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()
			acls, err := describeACLs(ctx, cmd, cf, cl, filters)
			if err != nil {
				return fmt.Errorf("cannot list ACLs: %w", err)
			}
			return writeACLs(cmd, acls)
		},
	}
	f.register(cmd.Flags(), aclList)
	return cmd
}

func newACLDeleteCmd(cf *clientFlags) *cobra.Command {
	f := &aclFlags{}
	cmd := &cobra.Command{
		Use:     "delete",
		Aliases: []string{"rm"},
		Short:   "Delete the ACLs matching the flags (shows them unless --force)",
		Long: `Delete the ACLs of a resource that match the principal, host and operation
flags (what is not given matches any), as kafka-acls --remove does. Without
--force this only shows the ACLs that would be deleted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			filters, err := f.entries(aclDelete)
			if err != nil {
				return err
			}
			return runACLDelete(cmd, cf, filters, f.force)
		},
	}
	f.register(cmd.Flags(), aclDelete)
	return cmd
}

func runACLDelete(cmd *cobra.Command, cf *clientFlags, filters []aclEntry, force bool) error {
	cl, err := cf.newClient(cmd)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := cf.requestContext(cmd)
	defer cancel()
	out := cmd.OutOrStdout()
	if !force {
		acls, err := describeACLs(ctx, cmd, cf, cl, filters)
		if err != nil {
			return fmt.Errorf("cannot list the ACLs to delete: %w", err)
		}
		if len(acls) == 0 {
			fmt.Fprintln(out, "no ACLs match")
			return nil
		}
		if err := writeACLs(cmd, acls); err != nil {
			return err
		}
		fmt.Fprintf(out, "\ndry run: no ACLs deleted; add --force to delete these %s\n", plural(int64(len(acls)), "ACL", "ACLs"))
		return nil
	}
	deleted, err := deleteACLs(ctx, cmd, cf, cl, filters)
	if len(deleted) > 0 {
		if werr := writeACLs(cmd, deleted); werr != nil {
			return werr
		}
	}
	fmt.Fprintf(out, "deleted %s\n", plural(int64(len(deleted)), "ACL", "ACLs"))
	if err != nil {
		return fmt.Errorf("cannot delete ACLs: %w", err)
	}
	return nil
}

// describeACLs sends one DescribeAcls per filter and returns the ACLs found,
// without duplicates, sorted.
func describeACLs(ctx context.Context, cmd *cobra.Command, cf *clientFlags, cl *kgo.Client, filters []aclEntry) ([]aclEntry, error) {
	var acls []aclEntry
	for _, f := range filters {
		req := kmsg.NewPtrDescribeACLsRequest()
		req.ResourceType, req.ResourceName, req.ResourcePatternType = f.typ, optString(f.name), f.pattern
		req.Principal, req.Host, req.Operation, req.PermissionType = optString(f.principal), optString(f.host), f.op, f.perm
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, explainedErr{cf.explain(cmd, err), err}
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, explainedErr{cf.explainKafka(cmd, err, deref(resp.ErrorMessage)), err}
		}
		for _, r := range resp.Resources {
			for _, a := range r.ACLs {
				acls = append(acls, aclEntry{perm: a.PermissionType, principal: a.Principal, host: a.Host, op: a.Operation,
					typ: r.ResourceType, name: r.ResourceName, pattern: r.ResourcePatternType})
			}
		}
	}
	return sortACLs(acls), nil
}

// deleteACLs sends the filters in one DeleteAcls and returns what was
// deleted; a failing filter is reported after the others are done.
func deleteACLs(ctx context.Context, cmd *cobra.Command, cf *clientFlags, cl *kgo.Client, filters []aclEntry) ([]aclEntry, error) {
	req := kmsg.NewPtrDeleteACLsRequest()
	for _, f := range filters {
		d := kmsg.NewDeleteACLsRequestFilter()
		d.ResourceType, d.ResourceName, d.ResourcePatternType = f.typ, optString(f.name), f.pattern
		d.Principal, d.Host, d.Operation, d.PermissionType = optString(f.principal), optString(f.host), f.op, f.perm
		req.Filters = append(req.Filters, d)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, explainedErr{cf.explain(cmd, err), err}
	}
	var deleted []aclEntry
	var failures []string
	for _, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			failures = append(failures, cf.explainKafka(cmd, err, deref(r.ErrorMessage)))
			continue
		}
		for _, m := range r.MatchingACLs {
			if err := kerr.ErrorForCode(m.ErrorCode); err != nil {
				failures = append(failures, cf.explainKafka(cmd, err, deref(m.ErrorMessage)))
				continue
			}
			deleted = append(deleted, aclEntry{perm: m.PermissionType, principal: m.Principal, host: m.Host, op: m.Operation,
				typ: m.ResourceType, name: m.ResourceName, pattern: m.ResourcePatternType})
		}
	}
	deleted = sortACLs(deleted)
	if len(failures) > 0 {
		return deleted, errors.New(strings.Join(slices.Compact(failures), "; "))
	}
	return deleted, nil
}

// sortACLs orders ACLs by resource, then principal, host, operation and
// permission, dropping duplicates.
func sortACLs(acls []aclEntry) []aclEntry {
	slices.SortFunc(acls, func(a, b aclEntry) int {
		return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.name, b.name), cmp.Compare(a.pattern, b.pattern),
			cmp.Compare(a.principal, b.principal), cmp.Compare(a.host, b.host), cmp.Compare(a.op, b.op), cmp.Compare(a.perm, b.perm))
	})
	return slices.Compact(acls)
}

// writeACLs prints the ACL table.
func writeACLs(cmd *cobra.Command, acls []aclEntry) error {
	tw := newTable(cmd.OutOrStdout())
	fmt.Fprintln(tw, "PRINCIPAL\tHOST\tOPERATION\tPERMISSION\tRESOURCE-TYPE\tNAME\tPATTERN")
	for _, a := range acls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.principal, a.host, a.op, a.perm, a.typ, a.name, a.pattern)
	}
	return tw.Flush()
}

// optString is nil for "" (a filter's any), else &s.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
