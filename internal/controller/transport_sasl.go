package controller

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// SASL on the raft transport (the controller listener mapped to
// SASL_PLAINTEXT or SASL_SSL). The transport does not speak Kafka's
// framing, so the exchange of SaslHandshake and SaslAuthenticate has its
// own frames, right after the hello (and inside TLS with SASL_SSL):
//
//	dialer, first    magic:u32be "SSAS" (0x53534153)  length:u32be  mechLen:u8  mechanism[mechLen]  token[...]
//	dialer, later    length:u32be  token[length]
//	acceptor         length:u32be  status:u8  payload[length-1]
//
// length is at most saslMaxFrame. status saslContinue carries the
// mechanism's challenge, saslDone its last message (the dialer's session
// must then be done too), saslFailed an error message, after which the
// acceptor closes the connection. Only then does the dialer send raft
// frames or a request. The acceptor refuses a connection whose first
// bytes after the hello are not the magic, and then asks TransportSASL's
// Authorize whether the authenticated principal may speak for the
// hello's node id.

const (
	saslMagic    uint32 = 0x53534153 // "SSAS"; > defaultMaxFrameBytes
	saslMaxFrame        = 64 << 10
	saslMaxSteps        = 8

	saslContinue byte = 0
	saslDone     byte = 1
	saslFailed   byte = 2
)

// ErrSASLFailed: the peer refused this node's SASL credentials (or the
// exchange broke down).
var ErrSASLFailed = errors.New("controller: SASL authentication failed")

// SASLClientSession is the dialer's side of one SASL exchange (franz-go's
// sasl.Session has this shape).
type SASLClientSession interface {
	// Challenge takes the acceptor's message and returns whether the
	// exchange is done and, if not, the next message to send.
	Challenge(server []byte) (done bool, next []byte, err error)
}

// SASLServerExchange is the acceptor's side of one SASL exchange.
type SASLServerExchange interface {
	// Step takes the dialer's message and returns the reply, and whether
	// the dialer is authenticated; an error refuses it.
	Step(client []byte) (reply []byte, done bool, err error)
	// Principal is the authenticated principal ("User:broker") once done.
	Principal() string
}

// TransportSASL authenticates every connection with SASL.
type TransportSASL struct {
	// Mechanism is the one this node logs in with (PLAIN, ...).
	Mechanism string
	// Login starts this node's side of an exchange with the node at host:
	// the session and the first message.
	Login func(ctx context.Context, host string) (SASLClientSession, []byte, error)
	// Accept starts the acceptor's side for a mechanism the dialer names;
	// an error refuses it (a mechanism not enabled).
	Accept func(mechanism string) (SASLServerExchange, error)
	// Authorize decides whether principal may speak for nodeID; an error
	// refuses the connection.
	Authorize func(principal string, nodeID int32) error
}

func (s *TransportSASL) validate() error {
	if s.Mechanism == "" || len(s.Mechanism) > 255 || s.Login == nil || s.Accept == nil || s.Authorize == nil {
		return errors.New("controller: transport SASL needs a mechanism, Login, Accept and Authorize")
	}
	return nil
}

// saslLogin runs the dialer's side of the exchange on conn.
func (t *TCPTransport) saslLogin(ctx context.Context, conn net.Conn, addr string) error {
	s := t.cfg.SASL
	host, _, _ := net.SplitHostPort(addr)
	sess, msg, err := s.Login(ctx, host)
	if err != nil {
		return fmt.Errorf("SASL %s: %w", s.Mechanism, err)
	}
	first := binary.BigEndian.AppendUint32(nil, saslMagic)
	first = binary.BigEndian.AppendUint32(first, uint32(1+len(s.Mechanism)+len(msg)))
	first = append(first, byte(len(s.Mechanism)))
	first = append(first, s.Mechanism...)
	out := append(first, msg...)
	for range saslMaxSteps {
		if _, err := conn.Write(out); err != nil {
			return fmt.Errorf("SASL %s: %w", s.Mechanism, err)
		}
		payload, err := readSASLFrame(conn)
		if err != nil {
			return fmt.Errorf("%w: %s: reading the reply: %w", ErrSASLFailed, s.Mechanism, err)
		}
		if len(payload) == 0 || payload[0] > saslFailed {
			return fmt.Errorf("%w: %s: malformed reply", ErrSASLFailed, s.Mechanism)
		}
		status := payload[0]
		payload = payload[1:]
		if status == saslFailed {
			return fmt.Errorf("%w: %s: %s", ErrSASLFailed, s.Mechanism, payload)
		}
		done, next, err := sess.Challenge(payload)
		switch {
		case err != nil:
			return fmt.Errorf("%w: %s: %w", ErrSASLFailed, s.Mechanism, err)
		case done != (status == saslDone):
			return fmt.Errorf("%w: %s: the peer and this node disagree on the end of the exchange", ErrSASLFailed, s.Mechanism)
		case done:
			return nil
		}
		out = binary.BigEndian.AppendUint32(nil, uint32(len(next)))
		out = append(out, next...)
	}
	return fmt.Errorf("%w: %s: more than %d steps", ErrSASLFailed, s.Mechanism, saslMaxSteps)
}

// readSASLFrame reads length:u32be payload[length] (an acceptor's
// payload starts with its status byte).
func readSASLFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > saslMaxFrame {
		return nil, fmt.Errorf("SASL frame of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// saslAccept runs the acceptor's side on an accepted connection whose
// hello named nodeID, and authorizes the principal for it.
func (t *TCPTransport) saslAccept(conn net.Conn, br *bufio.Reader, nodeID int32) error {
	s := t.cfg.SASL
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(hdr[:]) != saslMagic {
		return fmt.Errorf("%w: node %d did not authenticate with SASL", ErrPeerIdentity, nodeID)
	}
	first, err := readSASLFrame(br)
	if err != nil {
		return fmt.Errorf("%w: node %d: %w", ErrPeerIdentity, nodeID, err)
	}
	if len(first) < 1 || len(first) < 1+int(first[0]) {
		return fmt.Errorf("%w: node %d: malformed SASL start", ErrPeerIdentity, nodeID)
	}
	mech := string(first[1 : 1+int(first[0])])
	ex, err := s.Accept(mech)
	if err != nil {
		t.writeSASL(conn, saslFailed, []byte(err.Error()))
		return fmt.Errorf("%w: node %d: %w", ErrPeerIdentity, nodeID, err)
	}
	msg := first[1+int(first[0]):]
	for range saslMaxSteps {
		reply, done, err := ex.Step(msg)
		if err != nil {
			t.writeSASL(conn, saslFailed, []byte("authentication failed with SASL mechanism "+mech))
			return fmt.Errorf("%w: node %d: SASL %s: %w", ErrPeerIdentity, nodeID, mech, err)
		}
		if done {
			if err := s.Authorize(ex.Principal(), nodeID); err != nil {
				t.writeSASL(conn, saslFailed, []byte("not authorized for node "+fmt.Sprint(nodeID)))
				return fmt.Errorf("%w: node %d: %w", ErrPeerIdentity, nodeID, err)
			}
			return t.writeSASL(conn, saslDone, reply)
		}
		if err := t.writeSASL(conn, saslContinue, reply); err != nil {
			return err
		}
		if msg, err = readSASLFrame(br); err != nil {
			return fmt.Errorf("%w: node %d: %w", ErrPeerIdentity, nodeID, err)
		}
	}
	return fmt.Errorf("%w: node %d: SASL %s: more than %d steps", ErrPeerIdentity, nodeID, mech, saslMaxSteps)
}

// writeSASL writes one acceptor frame.
func (t *TCPTransport) writeSASL(conn net.Conn, status byte, payload []byte) error {
	if len(payload) > saslMaxFrame-1 {
		payload = payload[:saslMaxFrame-1]
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
	b = append(b, status)
	_, err := conn.Write(append(b, payload...))
	return err
}
