package awssim

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// maxIngressRules is the default "inbound rules per security group" quota.
const maxIngressRules = 60

// normalizeProtocol maps what EC2 accepts for IpProtocol to what it stores:
// names or IANA numbers for the four named protocols, -1 (or "all") for
// everything, any other protocol number as is.
func normalizeProtocol(p string) (string, bool) {
	switch strings.ToLower(p) {
	case "tcp", "6":
		return "tcp", true
	case "udp", "17":
		return "udp", true
	case "icmp", "1":
		return "icmp", true
	case "icmpv6", "58":
		return "icmpv6", true
	case "-1", "all":
		return "-1", true
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		return strconv.Itoa(n), true
	}
	return "", false
}

func hasPorts(proto string) bool { return proto == "tcp" || proto == "udp" }

func isICMP(proto string) bool { return proto == "icmp" || proto == "icmpv6" }

// sameRule is EC2's rule identity: direction, protocol, port range and
// source. The description is not part of it, which is why re-adding a rule
// with a new description is still a duplicate.
func (r *sgRule) sameRule(o *sgRule) bool {
	return r.Egress == o.Egress && r.Protocol == o.Protocol && r.FromPort == o.FromPort && r.ToPort == o.ToPort &&
		r.CIDRv4 == o.CIDRv4 && r.CIDRv6 == o.CIDRv6 && r.PrefixListID == o.PrefixListID && r.RefGroupID == o.RefGroupID
}

func (r *sgRule) peer() string {
	for _, v := range []string{r.CIDRv4, r.CIDRv6, r.PrefixListID, r.RefGroupID} {
		if v != "" {
			return v
		}
	}
	return ""
}

// duplicateErr words InvalidPermission.Duplicate the way EC2 does.
func duplicateErr(r *sgRule) *apiError {
	var what string
	switch {
	case hasPorts(r.Protocol):
		what = fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", r.peer(), strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
	case isICMP(r.Protocol):
		what = fmt.Sprintf("peer: %s, %s, type: %d, code: %d, ALLOW", r.peer(), strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
	case r.Protocol == "-1":
		what = fmt.Sprintf("peer: %s, ALL, ALLOW", r.peer())
	default:
		what = fmt.Sprintf("peer: %s, %s, ALLOW", r.peer(), r.Protocol)
	}
	return clientErr("InvalidPermission.Duplicate", "the specified rule %q already exists", what)
}

// ruleDescription is the character set EC2 allows in a rule description.
var ruleDescription = regexp.MustCompile(`^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*$`)

func checkDescription(d string) *apiError {
	if len(d) > 255 || !ruleDescription.MatchString(d) {
		return invalidValue("Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")
	}
	return nil
}

// rawPerm is one IpPermissions.N (or the legacy top-level parameters) as
// sent, before validation.
type rawPerm struct {
	protocol         string
	hasProto         bool
	from, to         string
	hasFrom, hasTo   bool
	v4, v6, pls      [][2]string // value, description
	groups           []rawGroup
	legacyGroupName  string
	legacyGroupOwner string
}

type rawGroup struct {
	groupID, groupName, userID, description string
}

var legacyPermParams = []string{"CidrIp", "FromPort", "ToPort", "IpProtocol", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId"}

func readPerms(p params) ([]rawPerm, *apiError) {
	var legacy []string
	for _, k := range legacyPermParams {
		if p.has(k) {
			legacy = append(legacy, k)
		}
	}
	idx := p.indexes("IpPermissions")
	if len(idx) > 0 && len(legacy) > 0 {
		return nil, clientErr("InvalidParameterCombination", "The parameter ipPermissions cannot be used with the parameter %s",
			lowerFirst(legacy[0]))
	}
	if len(legacy) > 0 {
		r := rawPerm{
			protocol: p.str("IpProtocol"), hasProto: p.has("IpProtocol"),
			from: p.str("FromPort"), hasFrom: p.has("FromPort"),
			to: p.str("ToPort"), hasTo: p.has("ToPort"),
			legacyGroupName: p.str("SourceSecurityGroupName"), legacyGroupOwner: p.str("SourceSecurityGroupOwnerId"),
		}
		if p.has("CidrIp") {
			r.v4 = append(r.v4, [2]string{p.str("CidrIp"), ""})
		}
		if !r.hasProto && r.legacyGroupName != "" {
			// The legacy source-group form without a protocol means all traffic.
			r.protocol, r.hasProto = "-1", true
		}
		return []rawPerm{r}, nil
	}
	if len(idx) == 0 {
		return nil, missingParam("ipPermissions")
	}
	var out []rawPerm
	for _, i := range idx {
		pre := "IpPermissions." + strconv.Itoa(i)
		r := rawPerm{
			protocol: p.str(pre + ".IpProtocol"), hasProto: p.has(pre + ".IpProtocol"),
			from: p.str(pre + ".FromPort"), hasFrom: p.has(pre + ".FromPort"),
			to: p.str(pre + ".ToPort"), hasTo: p.has(pre + ".ToPort"),
		}
		pairs := func(list, field string) [][2]string {
			var out [][2]string
			for _, j := range p.indexes(pre + "." + list) {
				item := fmt.Sprintf("%s.%s.%d.", pre, list, j)
				out = append(out, [2]string{p.str(item + field), p.str(item + "Description")})
			}
			return out
		}
		r.v4 = pairs("IpRanges", "CidrIp")
		r.v6 = pairs("Ipv6Ranges", "CidrIpv6")
		r.pls = pairs("PrefixListIds", "PrefixListId")
		for _, j := range p.indexes(pre + ".Groups") {
			item := fmt.Sprintf("%s.Groups.%d.", pre, j)
			r.groups = append(r.groups, rawGroup{groupID: p.str(item + "GroupId"), groupName: p.str(item + "GroupName"),
				userID: p.str(item + "UserId"), description: p.str(item + "Description")})
		}
		out = append(out, r)
	}
	return out, nil
}

func parsePort(raw, name string) (int32, *apiError) {
	n, err := strconv.Atoi(raw)
	if err != nil || n < -1 || n > 65535 {
		return 0, invalidValue("Invalid value '%s' for %s. Must be an integer between -1 and 65535.", raw, name)
	}
	return int32(n), nil
}

// expandPerms validates the permissions of a request against group sg and
// expands them into one rule per source, the unit EC2 stores, dedups and
// gives an sgr- ID.
func (s *Sim) expandPerms(c *ec2Call, sg *securityGroup, raws []rawPerm, egress bool) ([]*sgRule, *apiError) {
	var out []*sgRule
	for _, r := range raws {
		if !r.hasProto {
			return nil, invalidValue("Invalid value 'null' for IP protocol. Unknown protocol.")
		}
		proto, ok := normalizeProtocol(r.protocol)
		if !ok {
			return nil, invalidValue("Invalid value '%s' for IP protocol. Unknown protocol.", r.protocol)
		}
		from, to := int32(-1), int32(-1)
		switch {
		case hasPorts(proto):
			if !r.hasFrom || !r.hasTo {
				return nil, invalidValue("Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
			}
			var aerr *apiError
			if from, aerr = parsePort(r.from, "fromPort"); aerr != nil {
				return nil, aerr
			}
			if to, aerr = parsePort(r.to, "toPort"); aerr != nil {
				return nil, aerr
			}
			if from < 0 || to < 0 || from > to {
				return nil, invalidValue("Invalid TCP/UDP port range from %d to %d.", from, to)
			}
		case isICMP(proto):
			var aerr *apiError
			if r.hasFrom {
				if from, aerr = parsePort(r.from, "fromPort"); aerr != nil {
					return nil, aerr
				}
			}
			if r.hasTo {
				if to, aerr = parsePort(r.to, "toPort"); aerr != nil {
					return nil, aerr
				}
			}
			if from > 255 || to > 255 {
				return nil, invalidValue("Invalid value for ICMP type or code: type %d, code %d.", from, to)
			}
		}
		base := sgRule{Egress: egress, Protocol: proto, FromPort: from, ToPort: to}
		n := 0
		add := func(rule sgRule, desc string) *apiError {
			if aerr := checkDescription(desc); aerr != nil {
				return aerr
			}
			rule.Description = desc
			rule.Tags = tags{}
			out = append(out, &rule)
			n++
			return nil
		}
		for _, v := range r.v4 {
			pfx, err := netip.ParsePrefix(v[0])
			if err != nil || !pfx.Addr().Is4() || pfx.Masked() != pfx {
				return nil, invalidValue("Value (%s) for parameter cidrIp is invalid. This is not a valid CIDR block.", v[0])
			}
			rule := base
			rule.CIDRv4 = v[0]
			if aerr := add(rule, v[1]); aerr != nil {
				return nil, aerr
			}
		}
		for _, v := range r.v6 {
			pfx, err := netip.ParsePrefix(v[0])
			if err != nil || !pfx.Addr().Is6() || pfx.Masked() != pfx {
				return nil, invalidValue("Value (%s) for parameter cidrIpv6 is invalid. This is not a valid IPv6 CIDR block.", v[0])
			}
			rule := base
			rule.CIDRv6 = v[0]
			if aerr := add(rule, v[1]); aerr != nil {
				return nil, aerr
			}
		}
		for _, v := range r.pls {
			// Managed prefix lists are not modelled: none exists.
			return nil, clientErr("InvalidPrefixListID.NotFound", "The prefix list '%s' does not exist.", v[0])
		}
		groups := r.groups
		if r.legacyGroupName != "" {
			groups = append(groups, rawGroup{groupName: r.legacyGroupName, userID: r.legacyGroupOwner})
		}
		for _, g := range groups {
			ref, aerr := s.referencedGroup(c, sg, g)
			if aerr != nil {
				return nil, aerr
			}
			rule := base
			rule.RefGroupID, rule.RefUserID = ref.ID, ref.Account
			if aerr := add(rule, g.description); aerr != nil {
				return nil, aerr
			}
		}
		if n == 0 {
			return nil, invalidValue("missing mandatory parameter: exactly one of remote-security-group, remote-ip-range, remote-ipv6-range, or prefix-list-id must be present")
		}
	}
	return out, nil
}

// referencedGroup resolves a rule's source group: by ID, in the caller's
// account or (with UserId) a peer account in the same region; by name, in
// the same VPC.
func (s *Sim) referencedGroup(c *ec2Call, sg *securityGroup, g rawGroup) (*securityGroup, *apiError) {
	switch {
	case g.groupID != "":
		if aerr := sgKind.checkShape(g.groupID); aerr != nil {
			return nil, aerr
		}
		ref, ok := s.sgs[g.groupID]
		if !ok || ref.Region != c.region || (ref.Account != c.account && ref.Account != g.userID) {
			return nil, sgKind.notFound(g.groupID)
		}
		return ref, nil
	case g.groupName != "":
		for _, ref := range sortedValues(s.sgs) {
			if ref.VPCID == sg.VPCID && ref.Name == g.groupName {
				return ref, nil
			}
		}
		return nil, clientErr("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", g.groupName, sg.VPCID)
	}
	return nil, invalidValue("A security group reference must name a groupId or a groupName")
}

// groupOf resolves the GroupId (or, for the default VPC only, GroupName) a
// rule call addresses.
func (s *Sim) groupOf(c *ec2Call) (*securityGroup, *apiError) {
	if id := c.p.str("GroupId"); id != "" {
		if aerr := sgKind.checkShape(id); aerr != nil {
			return nil, aerr
		}
		sg, ok := s.sgs[id]
		if !ok || sg.Account != c.account || sg.Region != c.region {
			return nil, sgKind.notFound(id)
		}
		return sg, nil
	}
	name := c.p.str("GroupName")
	if name == "" {
		return nil, clientErr("MissingParameter", "The request must contain the parameter groupName or groupId")
	}
	def := s.defaultVPC(c.account, c.region)
	if def == nil {
		return nil, clientErr("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
	}
	for _, sg := range sortedValues(s.sgs) {
		if sg.VPCID == def.ID && sg.Name == name {
			return sg, nil
		}
	}
	return nil, clientErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, def.ID)
}

func (s *Sim) defaultVPC(account, region string) *vpc {
	for _, v := range sortedValues(s.vpcs) {
		if v.Account == account && v.Region == region && v.IsDefault {
			return v
		}
	}
	return nil
}

type ipRangeXML struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type ipv6RangeXML struct {
	CidrIpv6    string `xml:"cidrIpv6"`
	Description string `xml:"description,omitempty"`
}

type prefixListXML struct {
	PrefixListID string `xml:"prefixListId"`
	Description  string `xml:"description,omitempty"`
}

type groupPairXML struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
}

type ipPermXML struct {
	IPProtocol    string               `xml:"ipProtocol"`
	FromPort      *int32               `xml:"fromPort,omitempty"`
	ToPort        *int32               `xml:"toPort,omitempty"`
	Groups        items[groupPairXML]  `xml:"groups"`
	IPRanges      items[ipRangeXML]    `xml:"ipRanges"`
	Ipv6Ranges    items[ipv6RangeXML]  `xml:"ipv6Ranges"`
	PrefixListIDs items[prefixListXML] `xml:"prefixListIds"`
}

// permissionsXML groups rules into IpPermissions the way EC2 reports them:
// one permission per protocol and port range, listing every source.
func permissionsXML(rules []*sgRule) items[ipPermXML] {
	type key struct {
		proto    string
		from, to int32
	}
	var order []key
	byKey := map[key]*ipPermXML{}
	for _, r := range rules {
		k := key{r.Protocol, r.FromPort, r.ToPort}
		perm, ok := byKey[k]
		if !ok {
			perm = &ipPermXML{IPProtocol: r.Protocol}
			if hasPorts(r.Protocol) || isICMP(r.Protocol) {
				from, to := r.FromPort, r.ToPort
				perm.FromPort, perm.ToPort = &from, &to
			}
			byKey[k] = perm
			order = append(order, k)
		}
		switch {
		case r.CIDRv4 != "":
			perm.IPRanges.Item = append(perm.IPRanges.Item, ipRangeXML{r.CIDRv4, r.Description})
		case r.CIDRv6 != "":
			perm.Ipv6Ranges.Item = append(perm.Ipv6Ranges.Item, ipv6RangeXML{r.CIDRv6, r.Description})
		case r.PrefixListID != "":
			perm.PrefixListIDs.Item = append(perm.PrefixListIDs.Item, prefixListXML{r.PrefixListID, r.Description})
		default:
			perm.Groups.Item = append(perm.Groups.Item, groupPairXML{r.RefUserID, r.RefGroupID, r.Description})
		}
	}
	var out items[ipPermXML]
	for _, k := range order {
		out.Item = append(out.Item, *byKey[k])
	}
	return out
}

func splitRules(rules []*sgRule) (ingress, egress []*sgRule) {
	for _, r := range rules {
		if r.Egress {
			egress = append(egress, r)
		} else {
			ingress = append(ingress, r)
		}
	}
	return ingress, egress
}

type sgXML struct {
	OwnerID             string           `xml:"ownerId"`
	GroupID             string           `xml:"groupId"`
	GroupName           string           `xml:"groupName"`
	GroupDescription    string           `xml:"groupDescription"`
	VpcID               string           `xml:"vpcId"`
	SecurityGroupArn    string           `xml:"securityGroupArn"`
	IPPermissions       items[ipPermXML] `xml:"ipPermissions"`
	IPPermissionsEgress items[ipPermXML] `xml:"ipPermissionsEgress"`
	TagSet              items[tagXML]    `xml:"tagSet"`
}

func (sg *securityGroup) xml() sgXML {
	in, eg := splitRules(sg.Rules)
	return sgXML{
		OwnerID: sg.Account, GroupID: sg.ID, GroupName: sg.Name, GroupDescription: sg.Description, VpcID: sg.VPCID,
		SecurityGroupArn: "arn:aws:ec2:" + sg.Region + ":" + sg.Account + ":security-group/" + sg.ID,
		IPPermissions:    permissionsXML(in), IPPermissionsEgress: permissionsXML(eg), TagSet: tagSet(sg.Tags),
	}
}

type refGroupXML struct {
	GroupID string `xml:"groupId"`
	UserID  string `xml:"userId"`
}

type sgRuleXML struct {
	SecurityGroupRuleID  string        `xml:"securityGroupRuleId"`
	GroupID              string        `xml:"groupId"`
	GroupOwnerID         string        `xml:"groupOwnerId"`
	IsEgress             bool          `xml:"isEgress"`
	IPProtocol           string        `xml:"ipProtocol"`
	FromPort             int32         `xml:"fromPort"`
	ToPort               int32         `xml:"toPort"`
	CidrIpv4             string        `xml:"cidrIpv4,omitempty"`
	CidrIpv6             string        `xml:"cidrIpv6,omitempty"`
	PrefixListID         string        `xml:"prefixListId,omitempty"`
	ReferencedGroupInfo  *refGroupXML  `xml:"referencedGroupInfo,omitempty"`
	Description          string        `xml:"description,omitempty"`
	TagSet               items[tagXML] `xml:"tagSet"`
	SecurityGroupRuleArn string        `xml:"securityGroupRuleArn"`
}

func ruleXML(sg *securityGroup, r *sgRule) sgRuleXML {
	out := sgRuleXML{
		SecurityGroupRuleID: r.ID, GroupID: sg.ID, GroupOwnerID: sg.Account, IsEgress: r.Egress,
		IPProtocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort,
		CidrIpv4: r.CIDRv4, CidrIpv6: r.CIDRv6, PrefixListID: r.PrefixListID, Description: r.Description,
		TagSet:               tagSet(r.Tags),
		SecurityGroupRuleArn: "arn:aws:ec2:" + sg.Region + ":" + sg.Account + ":security-group-rule/" + r.ID,
	}
	if r.RefGroupID != "" {
		out.ReferencedGroupInfo = &refGroupXML{GroupID: r.RefGroupID, UserID: r.RefUserID}
	}
	return out
}

func (s *Sim) groupFilters() filterSet[*securityGroup] {
	ruleVals := func(egress bool, pick func(*sgRule) (string, bool)) func(*securityGroup) []string {
		return func(sg *securityGroup) []string {
			var out []string
			for _, r := range sg.Rules {
				if r.Egress != egress {
					continue
				}
				if v, ok := pick(r); ok {
					out = append(out, v)
				}
			}
			return out
		}
	}
	attrs := map[string]func(*securityGroup) []string{
		"group-id":    func(sg *securityGroup) []string { return []string{sg.ID} },
		"group-name":  func(sg *securityGroup) []string { return []string{sg.Name} },
		"description": func(sg *securityGroup) []string { return []string{sg.Description} },
		"vpc-id":      func(sg *securityGroup) []string { return []string{sg.VPCID} },
		"owner-id":    func(sg *securityGroup) []string { return []string{sg.Account} },
	}
	for prefix, egress := range map[string]bool{"ip-permission.": false, "egress.ip-permission.": true} {
		attrs[prefix+"cidr"] = ruleVals(egress, func(r *sgRule) (string, bool) { return r.CIDRv4, r.CIDRv4 != "" })
		attrs[prefix+"ipv6-cidr"] = ruleVals(egress, func(r *sgRule) (string, bool) { return r.CIDRv6, r.CIDRv6 != "" })
		attrs[prefix+"prefix-list-id"] = ruleVals(egress, func(r *sgRule) (string, bool) { return r.PrefixListID, r.PrefixListID != "" })
		attrs[prefix+"group-id"] = ruleVals(egress, func(r *sgRule) (string, bool) { return r.RefGroupID, r.RefGroupID != "" })
		attrs[prefix+"user-id"] = ruleVals(egress, func(r *sgRule) (string, bool) { return r.RefUserID, r.RefUserID != "" })
		attrs[prefix+"group-name"] = ruleVals(egress, func(r *sgRule) (string, bool) {
			if ref, ok := s.sgs[r.RefGroupID]; ok {
				return ref.Name, true
			}
			return "", false
		})
		attrs[prefix+"protocol"] = ruleVals(egress, func(r *sgRule) (string, bool) { return r.Protocol, true })
		attrs[prefix+"from-port"] = ruleVals(egress, func(r *sgRule) (string, bool) { return strconv.Itoa(int(r.FromPort)), true })
		attrs[prefix+"to-port"] = ruleVals(egress, func(r *sgRule) (string, bool) { return strconv.Itoa(int(r.ToPort)), true })
	}
	return filterSet[*securityGroup]{attrs: attrs, tagsOf: func(sg *securityGroup) map[string]string { return sg.Tags }}
}

type describeSGsResp struct {
	ec2Meta
	SecurityGroupInfo items[sgXML] `xml:"securityGroupInfo"`
	NextToken         string       `xml:"nextToken,omitempty"`
}

func (s *Sim) describeSecurityGroups(c *ec2Call) (ec2Resp, *apiError) {
	ids := c.p.list("GroupId")
	names := c.p.list("GroupName")
	filters, aerr := c.p.filters()
	if aerr != nil {
		return nil, aerr
	}
	fs := s.groupFilters()
	if aerr := fs.validate(filters); aerr != nil {
		return nil, aerr
	}
	var all []*securityGroup
	for _, sg := range sortedValues(s.sgs) {
		if sg.Account == c.account && sg.Region == c.region {
			all = append(all, sg)
		}
	}
	sel, aerr := selectIDs(all, ids, func(sg *securityGroup) string { return sg.ID }, sgKind)
	if aerr != nil {
		return nil, aerr
	}
	if len(names) > 0 {
		// GroupName.N addresses groups in the default VPC only.
		def := s.defaultVPC(c.account, c.region)
		if def == nil {
			return nil, clientErr("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
		}
		want := map[string]bool{}
		for _, n := range names {
			found := false
			for _, sg := range all {
				if sg.VPCID == def.ID && sg.Name == n {
					found = true
				}
			}
			if !found {
				return nil, clientErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", n, def.ID)
			}
			want[n] = true
		}
		var keep []*securityGroup
		for _, sg := range sel {
			if sg.VPCID == def.ID && want[sg.Name] {
				keep = append(keep, sg)
			}
		}
		sel = keep
	}
	if c.dryRun {
		return nil, errDryRun
	}
	pg, next, aerr := paginate(fs.apply(sel, filters), c.p, page{min: 5, max: 1000, idsParam: "groupIds"}, len(ids)+len(names) > 0)
	if aerr != nil {
		return nil, aerr
	}
	resp := &describeSGsResp{NextToken: next}
	for _, sg := range pg {
		resp.SecurityGroupInfo.Item = append(resp.SecurityGroupInfo.Item, sg.xml())
	}
	return resp, nil
}

// ruleRef pairs a rule with its group for listing.
type ruleRef struct {
	sg   *securityGroup
	rule *sgRule
}

var ruleFilters = filterSet[ruleRef]{
	tagsOf: func(r ruleRef) map[string]string { return r.rule.Tags },
	attrs: map[string]func(ruleRef) []string{
		"group-id":               func(r ruleRef) []string { return []string{r.sg.ID} },
		"security-group-rule-id": func(r ruleRef) []string { return []string{r.rule.ID} },
	},
}

type describeRulesResp struct {
	ec2Meta
	SecurityGroupRuleSet items[sgRuleXML] `xml:"securityGroupRuleSet"`
	NextToken            string           `xml:"nextToken,omitempty"`
}

func (s *Sim) describeSecurityGroupRules(c *ec2Call) (ec2Resp, *apiError) {
	ids := c.p.list("SecurityGroupRuleId")
	filters, aerr := c.p.filters()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := ruleFilters.validate(filters); aerr != nil {
		return nil, aerr
	}
	var all []ruleRef
	for _, sg := range sortedValues(s.sgs) {
		if sg.Account != c.account || sg.Region != c.region {
			continue
		}
		for _, r := range sg.Rules {
			all = append(all, ruleRef{sg, r})
		}
	}
	sel, aerr := selectIDs(all, ids, func(r ruleRef) string { return r.rule.ID }, sgrKind)
	if aerr != nil {
		return nil, aerr
	}
	if c.dryRun {
		return nil, errDryRun
	}
	pg, next, aerr := paginate(ruleFilters.apply(sel, filters), c.p, page{min: 5, max: 1000}, len(ids) > 0)
	if aerr != nil {
		return nil, aerr
	}
	resp := &describeRulesResp{NextToken: next}
	for _, r := range pg {
		resp.SecurityGroupRuleSet.Item = append(resp.SecurityGroupRuleSet.Item, ruleXML(r.sg, r.rule))
	}
	return resp, nil
}

type authorizeResp struct {
	ec2Meta
	Return               bool             `xml:"return"`
	SecurityGroupRuleSet items[sgRuleXML] `xml:"securityGroupRuleSet"`
}

func (s *Sim) authorizeIngress(c *ec2Call) (ec2Resp, *apiError) {
	sg, aerr := s.groupOf(c)
	if aerr != nil {
		return nil, aerr
	}
	raws, aerr := readPerms(c.p)
	if aerr != nil {
		return nil, aerr
	}
	rules, aerr := s.expandPerms(c, sg, raws, false)
	if aerr != nil {
		return nil, aerr
	}
	t, aerr := parseTagSpecs(c.p, "security-group-rule")
	if aerr != nil {
		return nil, aerr
	}
	// All or nothing: one duplicate, against the group or within the
	// request, refuses the whole call.
	for i, r := range rules {
		for _, o := range sg.Rules {
			if o.sameRule(r) {
				return nil, duplicateErr(r)
			}
		}
		for _, o := range rules[:i] {
			if o.sameRule(r) {
				return nil, duplicateErr(r)
			}
		}
	}
	in, _ := splitRules(sg.Rules)
	if len(in)+len(rules) > maxIngressRules {
		return nil, clientErr("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
	}
	if c.dryRun {
		return nil, errDryRun
	}
	resp := &authorizeResp{Return: true}
	for _, r := range rules {
		r.ID = s.ids.next("sgr")
		for k, v := range t {
			r.Tags[k] = v
		}
		sg.Rules = append(sg.Rules, r)
		resp.SecurityGroupRuleSet.Item = append(resp.SecurityGroupRuleSet.Item, ruleXML(sg, r))
	}
	return resp, nil
}

type revokedRuleXML struct {
	SecurityGroupRuleID string `xml:"securityGroupRuleId"`
	GroupID             string `xml:"groupId"`
	IsEgress            bool   `xml:"isEgress"`
	IPProtocol          string `xml:"ipProtocol"`
	FromPort            int32  `xml:"fromPort"`
	ToPort              int32  `xml:"toPort"`
	CidrIpv4            string `xml:"cidrIpv4,omitempty"`
	CidrIpv6            string `xml:"cidrIpv6,omitempty"`
	PrefixListID        string `xml:"prefixListId,omitempty"`
	ReferencedGroupID   string `xml:"referencedGroupId,omitempty"`
	Description         string `xml:"description,omitempty"`
}

type revokeResp struct {
	ec2Meta
	Return                      bool                  `xml:"return"`
	UnknownIPPermissionSet      *items[ipPermXML]     `xml:"unknownIpPermissionSet,omitempty"`
	RevokedSecurityGroupRuleSet items[revokedRuleXML] `xml:"revokedSecurityGroupRuleSet"`
}

func revokedXML(sg *securityGroup, r *sgRule) revokedRuleXML {
	return revokedRuleXML{SecurityGroupRuleID: r.ID, GroupID: sg.ID, IsEgress: r.Egress, IPProtocol: r.Protocol,
		FromPort: r.FromPort, ToPort: r.ToPort, CidrIpv4: r.CIDRv4, CidrIpv6: r.CIDRv6, PrefixListID: r.PrefixListID,
		ReferencedGroupID: r.RefGroupID, Description: r.Description}
}

// revokeIngress removes rules named by ID or described as IpPermissions.
// Described rules that do not exist are reported back in
// unknownIpPermissionSet (and Return is false) as long as at least one rule
// matched; when none does, EC2 answers InvalidPermission.NotFound.
func (s *Sim) revokeIngress(c *ec2Call) (ec2Resp, *apiError) {
	sg, aerr := s.groupOf(c)
	if aerr != nil {
		return nil, aerr
	}
	ruleIDs := c.p.list("SecurityGroupRuleId")
	hasPerms := len(c.p.indexes("IpPermissions")) > 0
	for _, k := range legacyPermParams {
		hasPerms = hasPerms || c.p.has(k)
	}
	resp := &revokeResp{Return: true}
	remove := map[*sgRule]bool{}
	if len(ruleIDs) > 0 {
		if hasPerms {
			return nil, clientErr("InvalidParameterCombination", "The parameter securityGroupRuleIds cannot be used with the parameter ipPermissions")
		}
		for _, id := range ruleIDs {
			if aerr := sgrKind.checkShape(id); aerr != nil {
				return nil, aerr
			}
		}
		for _, id := range ruleIDs {
			var found *sgRule
			for _, r := range sg.Rules {
				if r.ID == id && !r.Egress {
					found = r
				}
			}
			if found == nil {
				return nil, sgrKind.notFound(id)
			}
			remove[found] = true
		}
	} else {
		raws, aerr := readPerms(c.p)
		if aerr != nil {
			return nil, aerr
		}
		wanted, aerr := s.expandPerms(c, sg, raws, false)
		if aerr != nil {
			return nil, aerr
		}
		var unknown []*sgRule
		for _, w := range wanted {
			var found *sgRule
			for _, r := range sg.Rules {
				if r.sameRule(w) {
					found = r
				}
			}
			if found == nil {
				unknown = append(unknown, w)
			} else {
				remove[found] = true
			}
		}
		if len(remove) == 0 {
			return nil, clientErr("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
		if len(unknown) > 0 {
			set := permissionsXML(unknown)
			resp.UnknownIPPermissionSet = &set
			resp.Return = false
		}
	}
	if c.dryRun {
		return nil, errDryRun
	}
	kept := sg.Rules[:0]
	for _, r := range sg.Rules {
		if remove[r] {
			resp.RevokedSecurityGroupRuleSet.Item = append(resp.RevokedSecurityGroupRuleSet.Item, revokedXML(sg, r))
			continue
		}
		kept = append(kept, r)
	}
	sg.Rules = kept
	return resp, nil
}
