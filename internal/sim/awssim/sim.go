// Package awssim simulates the parts of Amazon EC2 and STS that dfpeer uses,
// speaking the real wire protocol the official aws-sdk-go-v2 clients send:
// form-encoded Query requests (Action=…&Version=2016-11-15 for EC2,
// 2011-06-15 for STS) answered with XML in each API's namespace, AWS error
// codes and HTTP statuses.
//
// Identity comes from the SigV4 Authorization header: the access key names
// an account (registered with AddAccount) and the credential scope names the
// region. Every resource lives in one account and region and is invisible
// from any other, as on AWS. VPC peering connections are the exception AWS
// makes: both the requester and accepter accounts see them, in both VPCs'
// regions.
//
// State changes with time (a peering provisions, an unaccepted request
// expires after 7 days) through the injectable clock in Options, advanced
// lazily on every request, so tests can drive the whole life cycle without
// sleeping.
//
// *Sim also implements simcloud.Cloud, so the Dragonfly Cloud simulator can
// create Dragonfly's half of a peering here and read its status.
package awssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// Options configure a Sim.
type Options struct {
	Delays Delays
	// Now is the clock; time.Now when nil. Tests inject a fake clock to
	// move a peering through provisioning and expiry.
	Now func() time.Time
	// Seed seeds the resource ID generator (0 is a valid seed).
	Seed int64
}

// Delays are fixed, not random, so that a benchmark can compute the floor of
// a flow.
type Delays struct {
	// Provisioning is how long an accepted peering stays in "provisioning"
	// before it turns "active". Zero makes acceptance immediate.
	Provisioning time.Duration
}

// PendingExpiry is how long a peering request may wait for acceptance before
// AWS expires it.
const PendingExpiry = 7 * 24 * time.Hour

// Sim is one simulated AWS: every account and region.
type Sim struct {
	opts Options
	http *simhttp.Server

	mu         sync.Mutex
	ids        *idGen
	reqSeq     uint64
	accessKeys map[string]string // access key ID -> account
	accounts   map[string]bool
	vpcs       map[string]*vpc
	subnets    map[string]*subnet
	rtbs       map[string]*routeTable
	sgs        map[string]*securityGroup
	pcxs       map[string]*peering
	nacls      map[string]*networkACL
	byConn     map[string]string // Dragonfly connection ID -> pcx ID
}

// Resource records. Fields are exported only so that Snapshot can marshal
// them; the types are internal.
type tags map[string]string

type vpc struct {
	ID              string   `json:"id"`
	Account         string   `json:"account"`
	Region          string   `json:"region"`
	CIDRs           []string `json:"cidrs"`
	CIDRAssocIDs    []string `json:"cidrAssociationIds"`
	DHCPOptionsID   string   `json:"dhcpOptionsId"`
	IsDefault       bool     `json:"isDefault"`
	Tags            tags     `json:"tags"`
	MainRouteTable  string   `json:"mainRouteTableId"`
	DefaultSecGroup string   `json:"defaultSecurityGroupId"`
}

type subnet struct {
	ID      string `json:"id"`
	Account string `json:"account"`
	Region  string `json:"region"`
	VPCID   string `json:"vpcId"`
	CIDR    string `json:"cidr"`
	AZ      string `json:"availabilityZone"`
	Tags    tags   `json:"tags"`
}

type route struct {
	Destination string `json:"destination"`
	// TargetParam is the CreateRoute parameter naming the target
	// ("GatewayId", "VpcPeeringConnectionId", …); Target is its value.
	TargetParam string `json:"targetParam"`
	Target      string `json:"target"`
	Origin      string `json:"origin"`
}

type rtbAssoc struct {
	ID       string `json:"id"`
	SubnetID string `json:"subnetId,omitempty"`
	Main     bool   `json:"main"`
}

type routeTable struct {
	ID      string     `json:"id"`
	Account string     `json:"account"`
	Region  string     `json:"region"`
	VPCID   string     `json:"vpcId"`
	Routes  []route    `json:"routes"`
	Assocs  []rtbAssoc `json:"associations"`
	Tags    tags       `json:"tags"`
}

type sgRule struct {
	ID       string `json:"id"`
	Egress   bool   `json:"egress"`
	Protocol string `json:"protocol"` // tcp, udp, icmp, icmpv6, -1 or an IANA number
	FromPort int32  `json:"fromPort"` // -1 when the protocol has no ports
	ToPort   int32  `json:"toPort"`
	// Exactly one source/destination is set.
	CIDRv4       string `json:"cidrIpv4,omitempty"`
	CIDRv6       string `json:"cidrIpv6,omitempty"`
	PrefixListID string `json:"prefixListId,omitempty"`
	RefGroupID   string `json:"referencedGroupId,omitempty"`
	RefUserID    string `json:"referencedUserId,omitempty"`
	Description  string `json:"description,omitempty"`
	Tags         tags   `json:"tags"`
}

type securityGroup struct {
	ID          string    `json:"id"`
	Account     string    `json:"account"`
	Region      string    `json:"region"`
	VPCID       string    `json:"vpcId"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Rules       []*sgRule `json:"rules"` // in creation order
	Tags        tags      `json:"tags"`
}

// New returns an empty Sim: no accounts, no resources.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{
		opts:       opts,
		ids:        newIDGen(opts.Seed),
		accessKeys: map[string]string{},
		accounts:   map[string]bool{},
		vpcs:       map[string]*vpc{},
		subnets:    map[string]*subnet{},
		rtbs:       map[string]*routeTable{},
		sgs:        map[string]*securityGroup{},
		pcxs:       map[string]*peering{},
		nacls:      map[string]*networkACL{},
		byConn:     map[string]string{},
	}
	s.http = simhttp.Wrap(http.HandlerFunc(s.serve), simhttp.Options{
		Classify:   classify,
		WriteFault: s.writeFault,
	})
	return s
}

// Handler is the HTTP handler to serve (EC2 and STS on the same endpoint,
// told apart by the credential scope's service and the API version).
func (s *Sim) Handler() http.Handler { return s.http }

// HTTP gives access to the request log and fault injection.
func (s *Sim) HTTP() *simhttp.Server { return s.http }

// Provider implements simcloud.Cloud.
func (s *Sim) Provider() string { return "aws" }

var _ simcloud.Cloud = (*Sim)(nil)

func (s *Sim) now() time.Time { return s.opts.Now().UTC() }

func (s *Sim) nextRequestID() string {
	s.reqSeq++
	return requestID(s.reqSeq)
}

// AddAccount registers an account and an access key ID that authenticates
// as it. Several keys may map to one account.
func (s *Sim) AddAccount(accountID, accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[accountID] = true
	s.accessKeys[accessKeyID] = accountID
}

// VPCSpec describes a VPC to seed.
type VPCSpec struct {
	ID        string   // optional; generated when empty
	CIDRs     []string // IPv4; the first is the primary CIDR
	Name      string   // the Name tag, if not empty
	IsDefault bool
}

// VPCInfo is what AddVPC created.
type VPCInfo struct {
	VPCID                  string
	MainRouteTableID       string
	DefaultSecurityGroupID string
}

// AddVPC creates a VPC the way CreateVpc does: with its main route table
// (a local route per CIDR) and its "default" security group (ingress from
// itself, egress anywhere).
func (s *Sim) AddVPC(accountID, region string, v VPCSpec) (VPCInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ValidRegion(region) {
		return VPCInfo{}, fmt.Errorf("awssim: invalid region %q", region)
	}
	if len(v.CIDRs) == 0 {
		return VPCInfo{}, fmt.Errorf("awssim: a VPC needs at least one CIDR")
	}
	var prefixes []netip.Prefix
	for _, c := range v.CIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return VPCInfo{}, fmt.Errorf("awssim: %q is not a valid IPv4 CIDR block", c)
		}
		if p.Bits() < 16 || p.Bits() > 28 {
			return VPCInfo{}, fmt.Errorf("awssim: VPC CIDR %s must be between /16 and /28", c)
		}
		for _, q := range prefixes {
			if q.Overlaps(p) {
				return VPCInfo{}, fmt.Errorf("awssim: VPC CIDRs %s and %s overlap", q, p)
			}
		}
		prefixes = append(prefixes, p)
	}
	if v.IsDefault {
		for _, o := range s.vpcs {
			if o.Account == accountID && o.Region == region && o.IsDefault {
				return VPCInfo{}, fmt.Errorf("awssim: account %s already has a default VPC in %s", accountID, region)
			}
		}
	}
	id := v.ID
	if id == "" {
		id = s.ids.next("vpc")
	} else if !vpcKind.wellFormed(id) {
		return VPCInfo{}, fmt.Errorf("awssim: %q is not a VPC ID", id)
	} else if !s.ids.reserve(id) {
		return VPCInfo{}, fmt.Errorf("awssim: ID %s is taken", id)
	}
	s.accounts[accountID] = true
	nv := &vpc{
		ID: id, Account: accountID, Region: region,
		CIDRs: append([]string(nil), v.CIDRs...), IsDefault: v.IsDefault, Tags: tags{},
		DHCPOptionsID: s.ids.next("dopt"),
	}
	for range v.CIDRs {
		nv.CIDRAssocIDs = append(nv.CIDRAssocIDs, s.ids.next("vpc-cidr-assoc"))
	}
	if v.Name != "" {
		nv.Tags["Name"] = v.Name
	}
	s.vpcs[id] = nv

	main := s.newRouteTable(nv)
	main.Assocs = append(main.Assocs, rtbAssoc{ID: s.ids.next("rtbassoc"), Main: true})
	nv.MainRouteTable = main.ID

	sg := s.newSecurityGroup(nv, "default", "default VPC security group")
	// AWS creates the default group with an ingress rule from the group
	// itself, on top of the allow-all egress every group gets.
	sg.Rules = append(sg.Rules, &sgRule{ID: s.ids.next("sgr"), Protocol: "-1", FromPort: -1, ToPort: -1,
		RefGroupID: sg.ID, RefUserID: accountID, Tags: tags{}})
	nv.DefaultSecGroup = sg.ID
	s.newDefaultACL(nv)

	return VPCInfo{VPCID: id, MainRouteTableID: main.ID, DefaultSecurityGroupID: sg.ID}, nil
}

func (s *Sim) newRouteTable(v *vpc) *routeTable {
	rt := &routeTable{ID: s.ids.next("rtb"), Account: v.Account, Region: v.Region, VPCID: v.ID, Tags: tags{}}
	for _, c := range v.CIDRs {
		rt.Routes = append(rt.Routes, route{Destination: c, TargetParam: "GatewayId", Target: "local", Origin: "CreateRouteTable"})
	}
	s.rtbs[rt.ID] = rt
	return rt
}

func (s *Sim) newSecurityGroup(v *vpc, name, description string) *securityGroup {
	sg := &securityGroup{ID: s.ids.next("sg"), Account: v.Account, Region: v.Region, VPCID: v.ID,
		Name: name, Description: description, Tags: tags{}}
	sg.Rules = append(sg.Rules, &sgRule{ID: s.ids.next("sgr"), Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1,
		CIDRv4: "0.0.0.0/0", Tags: tags{}})
	s.sgs[sg.ID] = sg
	return sg
}

// vpcOf returns the VPC in the caller's account and region.
func (s *Sim) vpcOf(account, region, id string) (*vpc, bool) {
	v, ok := s.vpcs[id]
	if !ok || v.Account != account || v.Region != region {
		return nil, false
	}
	return v, true
}

func (s *Sim) seedVPC(accountID, region, vpcID string) (*vpc, error) {
	v, ok := s.vpcOf(accountID, region, vpcID)
	if !ok {
		return nil, fmt.Errorf("awssim: no VPC %s in account %s, region %s", vpcID, accountID, region)
	}
	return v, nil
}

// AddSubnet creates a subnet inside a VPC CIDR and returns its ID. The
// subnet is implicitly associated with the main route table.
func (s *Sim) AddSubnet(accountID, region, vpcID, cidr, az, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.seedVPC(accountID, region, vpcID)
	if err != nil {
		return "", err
	}
	p, perr := netip.ParsePrefix(cidr)
	if perr != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() < 16 || p.Bits() > 28 {
		return "", fmt.Errorf("awssim: %q is not a valid subnet CIDR (/16 to /28)", cidr)
	}
	inside := false
	for _, c := range v.CIDRs {
		vp := netip.MustParsePrefix(c)
		if vp.Bits() <= p.Bits() && vp.Contains(p.Addr()) {
			inside = true
		}
	}
	if !inside {
		return "", fmt.Errorf("awssim: subnet %s is outside VPC %s", cidr, vpcID)
	}
	for _, o := range s.subnets {
		if o.VPCID == vpcID && netip.MustParsePrefix(o.CIDR).Overlaps(p) {
			return "", fmt.Errorf("awssim: subnet %s conflicts with %s (%s)", cidr, o.ID, o.CIDR)
		}
	}
	if len(az) != len(region)+1 || az[:len(region)] != region {
		return "", fmt.Errorf("awssim: availability zone %q is not in %s", az, region)
	}
	sn := &subnet{ID: s.ids.next("subnet"), Account: accountID, Region: region, VPCID: vpcID, CIDR: cidr, AZ: az, Tags: tags{}}
	if name != "" {
		sn.Tags["Name"] = name
	}
	s.subnets[sn.ID] = sn
	// As on EC2, a new subnet uses the VPC's default network ACL.
	if a := s.defaultACLOf(vpcID); a != nil {
		a.Assocs = append(a.Assocs, naclAssoc{ID: s.ids.next("aclassoc"), SubnetID: sn.ID})
	}
	return sn.ID, nil
}

// AddRouteTable creates a non-main route table (with the VPC's local routes)
// and explicitly associates the given subnets with it, moving them off
// whatever table they were on.
func (s *Sim) AddRouteTable(accountID, region, vpcID, name string, subnetIDs ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.seedVPC(accountID, region, vpcID)
	if err != nil {
		return "", err
	}
	for _, id := range subnetIDs {
		if sn, ok := s.subnets[id]; !ok || sn.VPCID != vpcID {
			return "", fmt.Errorf("awssim: no subnet %s in VPC %s", id, vpcID)
		}
	}
	rt := s.newRouteTable(v)
	if name != "" {
		rt.Tags["Name"] = name
	}
	for _, id := range subnetIDs {
		for _, o := range s.rtbs {
			o.Assocs = dropSubnetAssoc(o.Assocs, id)
		}
		rt.Assocs = append(rt.Assocs, rtbAssoc{ID: s.ids.next("rtbassoc"), SubnetID: id})
	}
	return rt.ID, nil
}

func dropSubnetAssoc(in []rtbAssoc, subnetID string) []rtbAssoc {
	out := in[:0]
	for _, a := range in {
		if a.SubnetID != subnetID || a.Main {
			out = append(out, a)
		}
	}
	return out
}

// AddSecurityGroup creates a security group (with AWS's default allow-all
// egress rule) and returns its ID.
func (s *Sim) AddSecurityGroup(accountID, region, vpcID, name, description string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.seedVPC(accountID, region, vpcID)
	if err != nil {
		return "", err
	}
	if name == "default" {
		return "", fmt.Errorf("awssim: the name 'default' is reserved")
	}
	if name == "" {
		return "", fmt.Errorf("awssim: a security group needs a name")
	}
	for _, o := range s.sgs {
		if o.VPCID == vpcID && o.Name == name {
			return "", fmt.Errorf("awssim: security group %q already exists in %s", name, vpcID)
		}
	}
	return s.newSecurityGroup(v, name, description).ID, nil
}

// AddCIDRBlock associates a further IPv4 block with a VPC, as
// AssociateVpcCidrBlock does once the association completes: a local route
// for it in each of the VPC's tables. It checks only that the block is
// valid and overlaps none of the VPC's.
func (s *Sim) AddCIDRBlock(vpcID, cidr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vpcs[vpcID]
	if !ok {
		return fmt.Errorf("awssim: no VPC %s", vpcID)
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() < 16 || p.Bits() > 28 {
		return fmt.Errorf("awssim: %q is not a valid VPC CIDR block (/16 to /28)", cidr)
	}
	for _, c := range v.CIDRs {
		if netip.MustParsePrefix(c).Overlaps(p) {
			return fmt.Errorf("awssim: %s overlaps %s of %s", cidr, c, vpcID)
		}
	}
	v.CIDRs = append(v.CIDRs, cidr)
	v.CIDRAssocIDs = append(v.CIDRAssocIDs, s.ids.next("vpc-cidr-assoc"))
	for _, rt := range s.rtbs {
		if rt.VPCID == vpcID {
			rt.Routes = append(rt.Routes, route{Destination: cidr, TargetParam: "GatewayId", Target: "local", Origin: "CreateRouteTable"})
		}
	}
	return nil
}

// AddRoute seeds a route without CreateRoute's checks, to set up state a
// test needs (a conflicting route, a route through a gateway the simulator
// does not model). The target's kind is read from its ID prefix (pcx-, igw-,
// vgw-, nat-, tgw-, eni-, i-, vpce-, …).
func (s *Sim) AddRoute(routeTableID, destinationCIDR, targetID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.rtbs[routeTableID]
	if !ok {
		return fmt.Errorf("awssim: no route table %s", routeTableID)
	}
	p, err := netip.ParsePrefix(destinationCIDR)
	if err != nil || p.Masked() != p {
		return fmt.Errorf("awssim: %q is not a CIDR block", destinationCIDR)
	}
	param := targetParamFor(targetID)
	if param == "" {
		return fmt.Errorf("awssim: cannot tell what kind of target %q is", targetID)
	}
	for _, r := range rt.Routes {
		if r.Destination == destinationCIDR {
			return fmt.Errorf("awssim: route table %s already has a route for %s", routeTableID, destinationCIDR)
		}
	}
	rt.Routes = append(rt.Routes, route{Destination: destinationCIDR, TargetParam: param, Target: targetID, Origin: "CreateRoute"})
	return nil
}

// RuleSpec is an ingress rule to seed. Exactly one of CIDR (IPv4 or IPv6)
// and SourceGroupID is set. Protocol is tcp, udp, icmp, icmpv6 or -1.
type RuleSpec struct {
	Protocol      string
	FromPort      int32
	ToPort        int32
	CIDR          string
	SourceGroupID string
	Description   string
}

// AddIngressRule seeds an ingress rule and returns its sgr- ID. It refuses
// an exact duplicate, as AuthorizeSecurityGroupIngress would.
func (s *Sim) AddIngressRule(groupID string, r RuleSpec) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sg, ok := s.sgs[groupID]
	if !ok {
		return "", fmt.Errorf("awssim: no security group %s", groupID)
	}
	proto, ok := normalizeProtocol(r.Protocol)
	if !ok {
		return "", fmt.Errorf("awssim: unknown protocol %q", r.Protocol)
	}
	rule := &sgRule{Protocol: proto, FromPort: r.FromPort, ToPort: r.ToPort, Description: r.Description, Tags: tags{}}
	if !hasPorts(proto) && proto != "icmp" && proto != "icmpv6" {
		rule.FromPort, rule.ToPort = -1, -1
	}
	switch {
	case r.SourceGroupID != "":
		ref, ok := s.sgs[r.SourceGroupID]
		if !ok {
			return "", fmt.Errorf("awssim: no security group %s", r.SourceGroupID)
		}
		rule.RefGroupID, rule.RefUserID = ref.ID, ref.Account
	case r.CIDR != "":
		p, err := netip.ParsePrefix(r.CIDR)
		if err != nil || p.Masked() != p {
			return "", fmt.Errorf("awssim: %q is not a CIDR block", r.CIDR)
		}
		if p.Addr().Is4() {
			rule.CIDRv4 = r.CIDR
		} else {
			rule.CIDRv6 = r.CIDR
		}
	default:
		return "", fmt.Errorf("awssim: a rule needs a CIDR or a source group")
	}
	for _, o := range sg.Rules {
		if o.sameRule(rule) {
			return "", fmt.Errorf("awssim: %s already has that rule (%s)", groupID, o.ID)
		}
	}
	rule.ID = s.ids.next("sgr")
	sg.Rules = append(sg.Rules, rule)
	return rule.ID, nil
}

// RouteInfo is one route as a test sees it.
type RouteInfo struct {
	Destination string
	Target      string // "local", a pcx-/igw-/… ID
	State       string // active | blackhole
	Origin      string
}

// RouteTable returns a route table's routes, in table order.
func (s *Sim) RouteTable(id string) ([]RouteInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now())
	rt, ok := s.rtbs[id]
	if !ok {
		return nil, false
	}
	out := make([]RouteInfo, 0, len(rt.Routes))
	for _, r := range rt.Routes {
		out = append(out, RouteInfo{Destination: r.Destination, Target: r.Target, State: s.routeState(r), Origin: r.Origin})
	}
	return out, true
}

// RuleInfo is one security group rule as a test sees it.
type RuleInfo struct {
	ID            string
	Egress        bool
	Protocol      string
	FromPort      int32
	ToPort        int32
	CIDR          string // IPv4 or IPv6
	SourceGroupID string
	PrefixListID  string
	Description   string
}

// SecurityGroup returns a group's rules (ingress and egress) in creation
// order.
func (s *Sim) SecurityGroup(id string) ([]RuleInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sg, ok := s.sgs[id]
	if !ok {
		return nil, false
	}
	out := make([]RuleInfo, 0, len(sg.Rules))
	for _, r := range sg.Rules {
		cidr := r.CIDRv4
		if cidr == "" {
			cidr = r.CIDRv6
		}
		out = append(out, RuleInfo{ID: r.ID, Egress: r.Egress, Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort,
			CIDR: cidr, SourceGroupID: r.RefGroupID, PrefixListID: r.PrefixListID, Description: r.Description})
	}
	return out, true
}

// Snapshot returns the whole state as deterministic JSON: resources sorted
// by ID, map keys sorted, no request log and nothing that changes on a read.
// Access keys are left out: they are credentials, not state.
func (s *Sim) Snapshot() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now())
	snap := struct {
		Accounts       []string         `json:"accounts"`
		VPCs           []*vpc           `json:"vpcs"`
		Subnets        []*subnet        `json:"subnets"`
		RouteTables    []*routeTable    `json:"routeTables"`
		SecurityGroups []*securityGroup `json:"securityGroups"`
		Peerings       []*peering       `json:"peerings"`
		NetworkACLs    []*networkACL    `json:"networkAcls"`
	}{
		Accounts:       sortedKeys(s.accounts),
		VPCs:           sortedValues(s.vpcs),
		Subnets:        sortedValues(s.subnets),
		RouteTables:    sortedValues(s.rtbs),
		SecurityGroups: sortedValues(s.sgs),
		Peerings:       sortedValues(s.pcxs),
		NetworkACLs:    sortedValues(s.nacls),
	}
	out, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		panic("awssim: snapshot: " + err.Error())
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
