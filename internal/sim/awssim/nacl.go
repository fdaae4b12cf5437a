package awssim

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Network ACLs, as EC2 has them: every VPC gets a default ACL that allows
// all traffic both ways (rule 100) ahead of the catch-all deny (rule
// 32767, shown as "*" by the console); every subnet is associated with
// exactly one ACL, the default one unless moved. ACLs are stateless, so a
// TCP flow needs its port allowed one way and the ephemeral ports back.

var aclKind = newIDKind("acl", "InvalidNetworkAclID.Malformed",
	"InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist")

// catchAllRule is the rule number of the deny every ACL ends with; it
// cannot be created, replaced or deleted.
const catchAllRule = 32767

type naclEntry struct {
	RuleNumber int    `json:"ruleNumber"`
	Egress     bool   `json:"egress"`
	Protocol   string `json:"protocol"` // "-1" or an IANA number ("6" is TCP)
	RuleAction string `json:"ruleAction"`
	CIDR       string `json:"cidrBlock"`
	FromPort   int32  `json:"fromPort,omitempty"` // only for TCP and UDP
	ToPort     int32  `json:"toPort,omitempty"`
}

type naclAssoc struct {
	ID       string `json:"id"`
	SubnetID string `json:"subnetId"`
}

type networkACL struct {
	ID        string      `json:"id"`
	Account   string      `json:"account"`
	Region    string      `json:"region"`
	VPCID     string      `json:"vpcId"`
	IsDefault bool        `json:"isDefault"`
	Entries   []naclEntry `json:"entries"`
	Assocs    []naclAssoc `json:"associations"`
	Tags      tags        `json:"tags"`
}

// newDefaultACL is the ACL CreateVpc makes.
func (s *Sim) newDefaultACL(v *vpc) *networkACL {
	a := &networkACL{ID: s.ids.next("acl"), Account: v.Account, Region: v.Region, VPCID: v.ID, IsDefault: true, Tags: tags{}}
	for _, egress := range []bool{false, true} {
		a.Entries = append(a.Entries,
			naclEntry{RuleNumber: 100, Egress: egress, Protocol: "-1", RuleAction: "allow", CIDR: "0.0.0.0/0"},
			naclEntry{RuleNumber: catchAllRule, Egress: egress, Protocol: "-1", RuleAction: "deny", CIDR: "0.0.0.0/0"})
	}
	s.nacls[a.ID] = a
	return a
}

// defaultACLOf is the VPC's default ACL, nil if none.
func (s *Sim) defaultACLOf(vpcID string) *networkACL {
	for _, a := range sortedValues(s.nacls) {
		if a.VPCID == vpcID && a.IsDefault {
			return a
		}
	}
	return nil
}

// AddNetworkACL seeds a non-default ACL (only the catch-all denies, as
// CreateNetworkAcl makes it) and moves the given subnets to it.
func (s *Sim) AddNetworkACL(accountID, region, vpcID string, subnetIDs ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.seedVPC(accountID, region, vpcID)
	if err != nil {
		return "", err
	}
	a := &networkACL{ID: s.ids.next("acl"), Account: v.Account, Region: v.Region, VPCID: v.ID, Tags: tags{}}
	for _, egress := range []bool{false, true} {
		a.Entries = append(a.Entries, naclEntry{RuleNumber: catchAllRule, Egress: egress, Protocol: "-1", RuleAction: "deny", CIDR: "0.0.0.0/0"})
	}
	for _, id := range subnetIDs {
		if sn, ok := s.subnets[id]; !ok || sn.VPCID != vpcID {
			return "", fmt.Errorf("awssim: no subnet %s in VPC %s", id, vpcID)
		}
		for _, o := range s.nacls {
			o.Assocs = dropACLAssoc(o.Assocs, id)
		}
		a.Assocs = append(a.Assocs, naclAssoc{ID: s.ids.next("aclassoc"), SubnetID: id})
	}
	s.nacls[a.ID] = a
	return a.ID, nil
}

func dropACLAssoc(in []naclAssoc, subnetID string) []naclAssoc {
	out := in[:0]
	for _, a := range in {
		if a.SubnetID != subnetID {
			out = append(out, a)
		}
	}
	return out
}

type portRangeXML struct {
	From int32 `xml:"from"`
	To   int32 `xml:"to"`
}

type naclEntryXML struct {
	RuleNumber int           `xml:"ruleNumber"`
	Protocol   string        `xml:"protocol"`
	RuleAction string        `xml:"ruleAction"`
	Egress     bool          `xml:"egress"`
	CidrBlock  string        `xml:"cidrBlock"`
	PortRange  *portRangeXML `xml:"portRange,omitempty"`
}

type naclAssocXML struct {
	NetworkACLAssociationID string `xml:"networkAclAssociationId"`
	NetworkACLID            string `xml:"networkAclId"`
	SubnetID                string `xml:"subnetId"`
}

type naclXML struct {
	NetworkACLID   string              `xml:"networkAclId"`
	VpcID          string              `xml:"vpcId"`
	Default        bool                `xml:"default"`
	EntrySet       items[naclEntryXML] `xml:"entrySet"`
	AssociationSet items[naclAssocXML] `xml:"associationSet"`
	TagSet         items[tagXML]       `xml:"tagSet"`
	OwnerID        string              `xml:"ownerId"`
}

func (a *networkACL) xml() naclXML {
	out := naclXML{NetworkACLID: a.ID, VpcID: a.VPCID, Default: a.IsDefault, TagSet: tagSet(a.Tags), OwnerID: a.Account}
	entries := append([]naclEntry(nil), a.Entries...)
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].Egress != entries[j].Egress {
			return entries[i].Egress
		}
		return entries[i].RuleNumber < entries[j].RuleNumber
	})
	for _, e := range entries {
		x := naclEntryXML{RuleNumber: e.RuleNumber, Protocol: e.Protocol, RuleAction: e.RuleAction, Egress: e.Egress, CidrBlock: e.CIDR}
		if e.Protocol == "6" || e.Protocol == "17" {
			x.PortRange = &portRangeXML{From: e.FromPort, To: e.ToPort}
		}
		out.EntrySet.Item = append(out.EntrySet.Item, x)
	}
	for _, as := range a.Assocs {
		out.AssociationSet.Item = append(out.AssociationSet.Item, naclAssocXML{NetworkACLAssociationID: as.ID, NetworkACLID: a.ID, SubnetID: as.SubnetID})
	}
	return out
}

// naclFilters are DescribeNetworkAcls' documented filters (the ones a
// client of this simulator can meet).
var naclFilters = filterSet[*networkACL]{
	tagsOf: func(a *networkACL) map[string]string { return a.Tags },
	attrs: map[string]func(*networkACL) []string{
		"network-acl-id":             func(a *networkACL) []string { return []string{a.ID} },
		"vpc-id":                     func(a *networkACL) []string { return []string{a.VPCID} },
		"owner-id":                   func(a *networkACL) []string { return []string{a.Account} },
		"default":                    func(a *networkACL) []string { return []string{strconv.FormatBool(a.IsDefault)} },
		"association.subnet-id":      func(a *networkACL) []string { return each(a.Assocs, func(as naclAssoc) string { return as.SubnetID }) },
		"association.association-id": func(a *networkACL) []string { return each(a.Assocs, func(as naclAssoc) string { return as.ID }) },
		"association.network-acl-id": func(a *networkACL) []string {
			if len(a.Assocs) == 0 {
				return nil
			}
			return []string{a.ID}
		},
		"entry.rule-number": func(a *networkACL) []string {
			return each(a.Entries, func(e naclEntry) string { return strconv.Itoa(e.RuleNumber) })
		},
		"entry.rule-action": func(a *networkACL) []string { return each(a.Entries, func(e naclEntry) string { return e.RuleAction }) },
		"entry.cidr":        func(a *networkACL) []string { return each(a.Entries, func(e naclEntry) string { return e.CIDR }) },
	},
}

type describeNACLsResp struct {
	ec2Meta
	NetworkACLSet items[naclXML] `xml:"networkAclSet"`
	NextToken     string         `xml:"nextToken,omitempty"`
}

func (s *Sim) describeNetworkACLs(c *ec2Call) (ec2Resp, *apiError) {
	ids := c.p.list("NetworkAclId")
	filters, aerr := c.p.filters()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := naclFilters.validate(filters); aerr != nil {
		return nil, aerr
	}
	var all []*networkACL
	for _, a := range sortedValues(s.nacls) {
		if a.Account == c.account && a.Region == c.region {
			all = append(all, a)
		}
	}
	sel, aerr := selectIDs(all, ids, func(a *networkACL) string { return a.ID }, aclKind)
	if aerr != nil {
		return nil, aerr
	}
	if c.dryRun {
		return nil, errDryRun
	}
	pg, next, aerr := paginate(naclFilters.apply(sel, filters), c.p, page{min: 5, max: 1000, idsParam: "networkAclIds"}, len(ids) > 0)
	if aerr != nil {
		return nil, aerr
	}
	resp := &describeNACLsResp{NextToken: next}
	for _, a := range pg {
		resp.NetworkACLSet.Item = append(resp.NetworkACLSet.Item, a.xml())
	}
	return resp, nil
}

// aclOf resolves NetworkAclId for a mutating entry call.
func (s *Sim) aclOf(c *ec2Call) (*networkACL, *apiError) {
	id := c.p.str("NetworkAclId")
	if id == "" {
		return nil, missingParam("networkAclId")
	}
	if aerr := aclKind.checkShape(id); aerr != nil {
		return nil, aerr
	}
	a, ok := s.nacls[id]
	if !ok || a.Account != c.account || a.Region != c.region {
		return nil, aclKind.notFound(id)
	}
	return a, nil
}

// entryKey reads RuleNumber and Egress, which identify an entry.
func entryKey(c *ec2Call) (int, bool, *apiError) {
	n, ok, aerr := c.p.integer("RuleNumber", "ruleNumber")
	if aerr != nil {
		return 0, false, aerr
	}
	if !ok {
		return 0, false, missingParam("ruleNumber")
	}
	egress, aerr := c.p.boolean("Egress", "egress")
	if aerr != nil {
		return 0, false, aerr
	}
	if !c.p.has("Egress") {
		return 0, false, missingParam("egress")
	}
	if n < 1 || n > 32766 {
		return 0, false, invalidValue("Value (%d) for parameter ruleNumber is invalid. Rule number must be in the range 1-32766.", n)
	}
	return n, egress, nil
}

// protocolNumber turns what EC2 accepts for an entry's protocol (-1, a
// number, or tcp/udp/icmp/icmpv6/all) into the number it stores.
func protocolNumber(raw string) (string, bool) {
	switch strings.ToLower(raw) {
	case "-1", "all":
		return "-1", true
	case "tcp":
		return "6", true
	case "udp":
		return "17", true
	case "icmp":
		return "1", true
	case "icmpv6":
		return "58", true
	}
	n, err := strconv.Atoi(raw)
	return raw, err == nil && n >= 0 && n <= 255
}

// entryFromParams reads a Create/ReplaceNetworkAclEntry request.
func entryFromParams(c *ec2Call, n int, egress bool) (naclEntry, *apiError) {
	e := naclEntry{RuleNumber: n, Egress: egress}
	raw := c.p.str("Protocol")
	if raw == "" {
		return e, missingParam("protocol")
	}
	proto, ok := protocolNumber(raw)
	if !ok {
		return e, invalidValue("Invalid value '%s' for protocol. Must be one of: -1, 0-255, tcp, udp, icmp, icmpv6, all.", raw)
	}
	e.Protocol = proto
	switch action := strings.ToLower(c.p.str("RuleAction")); action {
	case "allow", "deny":
		e.RuleAction = action
	case "":
		return e, missingParam("ruleAction")
	default:
		return e, invalidValue("Value (%s) for parameter ruleAction is invalid. Expected: 'allow' or 'deny'.", c.p.str("RuleAction"))
	}
	if c.p.has("Ipv6CidrBlock") {
		return e, clientErr("InvalidParameterValue", "IPv6 entries are not supported by this simulator")
	}
	cidr := c.p.str("CidrBlock")
	if cidr == "" {
		return e, missingParam("cidrBlock or ipv6CidrBlock")
	}
	if p, err := netip.ParsePrefix(cidr); err != nil || !p.Addr().Is4() || p.Masked() != p {
		return e, invalidValue("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	e.CIDR = cidr
	if proto == "6" || proto == "17" {
		from, okFrom, aerr := c.p.integer("PortRange.From", "portRange.from")
		if aerr != nil {
			return e, aerr
		}
		to, okTo, aerr := c.p.integer("PortRange.To", "portRange.to")
		if aerr != nil {
			return e, aerr
		}
		if !okFrom || !okTo {
			return e, missingParam("portRange")
		}
		if from < 0 || to > 65535 || from > to {
			return e, invalidValue("Invalid port range %d-%d", from, to)
		}
		e.FromPort, e.ToPort = int32(from), int32(to)
	}
	return e, nil
}

func (a *networkACL) entryAt(n int, egress bool) int {
	for i, e := range a.Entries {
		if e.RuleNumber == n && e.Egress == egress {
			return i
		}
	}
	return -1
}

// entryRequest reads a Create/ReplaceNetworkAclEntry request: the ACL, the
// entry it describes, and the index of the entry already at its rule
// number and direction (-1 when none).
func (s *Sim) entryRequest(c *ec2Call) (*networkACL, naclEntry, int, *apiError) {
	a, aerr := s.aclOf(c)
	if aerr != nil {
		return nil, naclEntry{}, 0, aerr
	}
	n, egress, aerr := entryKey(c)
	if aerr != nil {
		return nil, naclEntry{}, 0, aerr
	}
	e, aerr := entryFromParams(c, n, egress)
	if aerr != nil {
		return nil, naclEntry{}, 0, aerr
	}
	return a, e, a.entryAt(n, egress), nil
}

func (s *Sim) createNetworkACLEntry(c *ec2Call) (ec2Resp, *apiError) {
	a, e, at, aerr := s.entryRequest(c)
	if aerr != nil {
		return nil, aerr
	}
	n := e.RuleNumber
	if at >= 0 {
		return nil, clientErr("NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", n)
	}
	if c.dryRun {
		return nil, errDryRun
	}
	a.Entries = append(a.Entries, e)
	return &returnResp{Return: true}, nil
}

func (s *Sim) replaceNetworkACLEntry(c *ec2Call) (ec2Resp, *apiError) {
	a, e, at, aerr := s.entryRequest(c)
	if aerr != nil {
		return nil, aerr
	}
	n := e.RuleNumber
	if at < 0 {
		return nil, clientErr("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist.", n)
	}
	if c.dryRun {
		return nil, errDryRun
	}
	a.Entries[at] = e
	return &returnResp{Return: true}, nil
}

func (s *Sim) deleteNetworkACLEntry(c *ec2Call) (ec2Resp, *apiError) {
	a, aerr := s.aclOf(c)
	if aerr != nil {
		return nil, aerr
	}
	n, egress, aerr := entryKey(c)
	if aerr != nil {
		return nil, aerr
	}
	at := a.entryAt(n, egress)
	if at < 0 {
		return nil, clientErr("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist.", n)
	}
	if c.dryRun {
		return nil, errDryRun
	}
	a.Entries = append(a.Entries[:at], a.Entries[at+1:]...)
	return &returnResp{Return: true}, nil
}

// each maps xs to the strings a filter compares.
func each[T any](xs []T, f func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
