package restproxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ACLs: GET with filters, POST one, DELETE with filters.

func (a *v3) routesACLs(h func(string, v3Handler)) {
	const p = "/v3/clusters/{cid}/acls"
	h("GET "+p, a.listACLs)
	h("POST "+p, a.createACL)
	h("DELETE "+p, a.deleteACLs)
}

// aclSpec is an ACL or an ACL filter, as Confluent's v3 writes them.
type aclSpec struct {
	ResourceType string  `json:"resource_type"`
	ResourceName *string `json:"resource_name"`
	PatternType  string  `json:"pattern_type"`
	Principal    *string `json:"principal"`
	Host         *string `json:"host"`
	Operation    string  `json:"operation"`
	Permission   string  `json:"permission"`
}

// v3ACL is an aclSpec parsed.
type v3ACL struct {
	rtype   kmsg.ACLResourceType
	name    *string
	pattern kmsg.ACLResourcePatternType
	princ   *string
	host    *string
	op      kmsg.ACLOperation
	perm    kmsg.ACLPermissionType
}

// parse reads the spec; empty enums take def ("ANY" for filters).
func (s aclSpec) parse(def string) (v3ACL, error) {
	or := func(v string) string {
		if v == "" {
			return def
		}
		return v
	}
	var x v3ACL
	var err error
	if x.rtype, err = kmsg.ParseACLResourceType(or(s.ResourceType)); err != nil {
		return x, apiErr(400, 400, "resource_type %q is not a resource type", s.ResourceType)
	}
	if x.pattern, err = kmsg.ParseACLResourcePatternType(or(s.PatternType)); err != nil {
		return x, apiErr(400, 400, "pattern_type %q is not a pattern type", s.PatternType)
	}
	if x.op, err = kmsg.ParseACLOperation(or(s.Operation)); err != nil {
		return x, apiErr(400, 400, "operation %q is not an operation", s.Operation)
	}
	if x.perm, err = kmsg.ParseACLPermissionType(or(s.Permission)); err != nil {
		return x, apiErr(400, 400, "permission %q is not a permission", s.Permission)
	}
	x.name, x.princ, x.host = s.ResourceName, s.Principal, s.Host
	return x, nil
}

// aclFilter reads the filter of GET and DELETE from the query.
func aclFilter(q url.Values) (v3ACL, error) {
	if err := onlyParams(q, "resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission"); err != nil {
		return v3ACL{}, err
	}
	opt := func(k string) *string {
		if !q.Has(k) {
			return nil
		}
		v := q.Get(k)
		return &v
	}
	return aclSpec{
		ResourceType: q.Get("resource_type"), ResourceName: opt("resource_name"), PatternType: q.Get("pattern_type"),
		Principal: opt("principal"), Host: opt("host"), Operation: q.Get("operation"), Permission: q.Get("permission"),
	}.parse("ANY")
}

func (a *v3) aclObj(cid string, rtype kmsg.ACLResourceType, name string, pattern kmsg.ACLResourcePatternType,
	princ, host string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType,
) obj {
	q := url.Values{}
	q.Set("resource_type", rtype.String())
	q.Set("resource_name", name)
	q.Set("pattern_type", pattern.String())
	q.Set("principal", princ)
	q.Set("host", host)
	q.Set("operation", op.String())
	q.Set("permission", perm.String())
	return obj{
		"kind":          "KafkaAcl",
		"metadata":      v3Meta(a.curl(cid, "acls")+"?"+q.Encode(), ""),
		"cluster_id":    cid,
		"resource_type": rtype.String(),
		"resource_name": name,
		"pattern_type":  pattern.String(),
		"principal":     princ,
		"host":          host,
		"operation":     op.String(),
		"permission":    perm.String(),
	}
}

func (a *v3) listACLs(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	f, err := aclFilter(r.URL.Query())
	if err != nil {
		return err
	}
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourceName, req.ResourcePatternType = f.rtype, f.name, f.pattern
	req.Principal, req.Host, req.Operation, req.PermissionType = f.princ, f.host, f.op, f.perm
	resp, err := req.RequestWith(r.Context(), a.s.kclient(r.Context()))
	if err != nil {
		return fmt.Errorf("describe acls: %w", err)
	}
	if err := aclErr(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return err
	}
	var data []obj
	for _, res := range resp.Resources {
		for _, x := range res.ACLs {
			data = append(data, a.aclObj(cid, res.ResourceType, res.ResourceName, res.ResourcePatternType,
				x.Principal, x.Host, x.Operation, x.PermissionType))
		}
	}
	return v3OK(w, 200, v3Coll("KafkaAclList", a.curl(cid, "acls")+queryOf(r), data))
}

// queryOf is "?query" of r, or "".
func queryOf(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}

// aclErr is the answer to an ACL request's error code.
func aclErr(code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil {
		return nil
	}
	m := err.Error()
	if msg != nil && *msg != "" {
		m = *msg
	}
	var ke *kerr.Error
	st := 400
	if errors.As(err, &ke) {
		st = kafkaStatus(ke)
	}
	return apiErr(st, st, "%s", m)
}

func (a *v3) createACL(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	var s aclSpec
	if err := a.decodeBody(w, r, &s); err != nil {
		return err
	}
	x, err := s.parse("")
	if err != nil {
		return err
	}
	if x.rtype <= kmsg.ACLResourceTypeAny || x.pattern <= kmsg.ACLResourcePatternTypeMatch ||
		x.op <= kmsg.ACLOperationAny || x.perm <= kmsg.ACLPermissionTypeAny {
		return apiErr(400, 400, "an ACL needs a concrete resource_type, pattern_type, operation and permission")
	}
	if x.name == nil || x.princ == nil {
		return apiErr(400, 400, "an ACL needs resource_name and principal")
	}
	host := "*"
	if x.host != nil {
		host = *x.host
	}
	req := kmsg.NewPtrCreateACLsRequest()
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = x.rtype, *x.name, x.pattern
	c.Principal, c.Host, c.Operation, c.PermissionType = *x.princ, host, x.op, x.perm
	req.Creations = append(req.Creations, c)
	resp, err := req.RequestWith(r.Context(), a.s.kclient(r.Context()))
	if err != nil {
		return fmt.Errorf("create acls: %w", err)
	}
	for _, res := range resp.Results {
		if err := aclErr(res.ErrorCode, res.ErrorMessage); err != nil {
			return err
		}
	}
	o := a.aclObj(cid, x.rtype, *x.name, x.pattern, *x.princ, host, x.op, x.perm)
	w.Header().Set("Location", o["metadata"].(obj)["self"].(string))
	return v3OK(w, 201, o)
}

func (a *v3) deleteACLs(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	f, err := aclFilter(r.URL.Query())
	if err != nil {
		return err
	}
	req := kmsg.NewPtrDeleteACLsRequest()
	df := kmsg.NewDeleteACLsRequestFilter()
	df.ResourceType, df.ResourceName, df.ResourcePatternType = f.rtype, f.name, f.pattern
	df.Principal, df.Host, df.Operation, df.PermissionType = f.princ, f.host, f.op, f.perm
	req.Filters = append(req.Filters, df)
	resp, err := req.RequestWith(r.Context(), a.s.kclient(r.Context()))
	if err != nil {
		return fmt.Errorf("delete acls: %w", err)
	}
	var data []obj
	for _, res := range resp.Results {
		if err := aclErr(res.ErrorCode, res.ErrorMessage); err != nil {
			return err
		}
		for _, m := range res.MatchingACLs {
			if kerr.ErrorForCode(m.ErrorCode) != nil {
				continue
			}
			data = append(data, a.aclObj(cid, m.ResourceType, m.ResourceName, m.ResourcePatternType,
				m.Principal, m.Host, m.Operation, m.PermissionType))
		}
	}
	if data == nil {
		data = []obj{}
	}
	return v3OK(w, 200, obj{"data": data})
}
