package awssim

import (
	"net/netip"
	"strconv"
)

// items is an EC2 XML list: <wrapper><item>…</item>…</wrapper>. The wrapper
// is always written, empty or not, as EC2 does.
type items[T any] struct {
	Item []T `xml:"item"`
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func tagSet(t tags) items[tagXML] {
	var out items[tagXML]
	for _, k := range sortedKeys(t) {
		out.Item = append(out.Item, tagXML{k, t[k]})
	}
	return out
}

type stateXML struct {
	State string `xml:"state"`
}

type cidrAssocXML struct {
	AssociationID string   `xml:"associationId"`
	CidrBlock     string   `xml:"cidrBlock"`
	State         stateXML `xml:"cidrBlockState"`
}

type vpcXML struct {
	VpcID                   string              `xml:"vpcId"`
	OwnerID                 string              `xml:"ownerId"`
	State                   string              `xml:"state"`
	CidrBlock               string              `xml:"cidrBlock"`
	CidrBlockAssociationSet items[cidrAssocXML] `xml:"cidrBlockAssociationSet"`
	DhcpOptionsID           string              `xml:"dhcpOptionsId"`
	TagSet                  items[tagXML]       `xml:"tagSet"`
	InstanceTenancy         string              `xml:"instanceTenancy"`
	IsDefault               bool                `xml:"isDefault"`
}

func (v *vpc) xml() vpcXML {
	out := vpcXML{VpcID: v.ID, OwnerID: v.Account, State: "available", CidrBlock: v.CIDRs[0],
		DhcpOptionsID: v.DHCPOptionsID, TagSet: tagSet(v.Tags), InstanceTenancy: "default", IsDefault: v.IsDefault}
	for i, c := range v.CIDRs {
		out.CidrBlockAssociationSet.Item = append(out.CidrBlockAssociationSet.Item,
			cidrAssocXML{AssociationID: v.CIDRAssocIDs[i], CidrBlock: c, State: stateXML{"associated"}})
	}
	return out
}

// Filters DescribeVpcs documents. The IPv6 ones are accepted and match
// nothing: no simulated VPC has an IPv6 block.
var vpcFilters = filterSet[*vpc]{
	tagsOf: func(v *vpc) map[string]string { return v.Tags },
	attrs: map[string]func(*vpc) []string{
		"vpc-id":                                func(v *vpc) []string { return []string{v.ID} },
		"cidr":                                  func(v *vpc) []string { return v.CIDRs[:1] },
		"cidr-block-association.cidr-block":     func(v *vpc) []string { return v.CIDRs },
		"cidr-block-association.association-id": func(v *vpc) []string { return v.CIDRAssocIDs },
		"cidr-block-association.state":          func(v *vpc) []string { return []string{"associated"} },
		"dhcp-options-id":                       func(v *vpc) []string { return []string{v.DHCPOptionsID} },
		"is-default":                            func(v *vpc) []string { return []string{strconv.FormatBool(v.IsDefault)} },
		"owner-id":                              func(v *vpc) []string { return []string{v.Account} },
		"state":                                 func(v *vpc) []string { return []string{"available"} },
		"ipv6-cidr-block-association.ipv6-cidr-block":            none[*vpc],
		"ipv6-cidr-block-association.ipv6-pool":                  none[*vpc],
		"ipv6-cidr-block-association.association-id":             none[*vpc],
		"ipv6-cidr-block-association.state":                      none[*vpc],
		"encryption-control-configuration.mode":                  none[*vpc],
		"encryption-control-configuration.state":                 none[*vpc],
		"block-public-access-states.internet-gateway-block-mode": none[*vpc],
	},
}

func none[T any](T) []string { return nil }

type describeVpcsResp struct {
	ec2Meta
	VpcSet    items[vpcXML] `xml:"vpcSet"`
	NextToken string        `xml:"nextToken,omitempty"`
}

func (s *Sim) describeVpcs(c *ec2Call) (ec2Resp, *apiError) {
	ids := c.p.list("VpcId")
	filters, aerr := c.p.filters()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := vpcFilters.validate(filters); aerr != nil {
		return nil, aerr
	}
	var all []*vpc
	for _, v := range sortedValues(s.vpcs) {
		if v.Account == c.account && v.Region == c.region {
			all = append(all, v)
		}
	}
	sel, aerr := selectIDs(all, ids, func(v *vpc) string { return v.ID }, vpcKind)
	if aerr != nil {
		return nil, aerr
	}
	if c.dryRun {
		return nil, errDryRun
	}
	pg, next, aerr := paginate(vpcFilters.apply(sel, filters), c.p, page{min: 5, max: 1000, idsParam: "vpcIds"}, len(ids) > 0)
	if aerr != nil {
		return nil, aerr
	}
	resp := &describeVpcsResp{NextToken: next}
	for _, v := range pg {
		resp.VpcSet.Item = append(resp.VpcSet.Item, v.xml())
	}
	return resp, nil
}

type subnetXML struct {
	SubnetID                    string              `xml:"subnetId"`
	SubnetArn                   string              `xml:"subnetArn"`
	State                       string              `xml:"state"`
	OwnerID                     string              `xml:"ownerId"`
	VpcID                       string              `xml:"vpcId"`
	CidrBlock                   string              `xml:"cidrBlock"`
	Ipv6CidrBlockAssociationSet items[cidrAssocXML] `xml:"ipv6CidrBlockAssociationSet"`
	AvailableIPAddressCount     int                 `xml:"availableIpAddressCount"`
	AvailabilityZone            string              `xml:"availabilityZone"`
	DefaultForAz                bool                `xml:"defaultForAz"`
	MapPublicIPOnLaunch         bool                `xml:"mapPublicIpOnLaunch"`
	AssignIpv6AddressOnCreation bool                `xml:"assignIpv6AddressOnCreation"`
	TagSet                      items[tagXML]       `xml:"tagSet"`
}

// availableIPs is what a fresh subnet reports: its size less the five
// addresses AWS reserves in every subnet.
func availableIPs(cidr string) int {
	p := netip.MustParsePrefix(cidr)
	return (1 << (32 - p.Bits())) - 5
}

func (sn *subnet) xml() subnetXML {
	return subnetXML{
		SubnetID: sn.ID, SubnetArn: "arn:aws:ec2:" + sn.Region + ":" + sn.Account + ":subnet/" + sn.ID,
		State: "available", OwnerID: sn.Account, VpcID: sn.VPCID, CidrBlock: sn.CIDR,
		AvailableIPAddressCount: availableIPs(sn.CIDR), AvailabilityZone: sn.AZ, TagSet: tagSet(sn.Tags),
	}
}

var subnetFilters = filterSet[*subnet]{
	tagsOf: func(sn *subnet) map[string]string { return sn.Tags },
	attrs: map[string]func(*subnet) []string{
		"subnet-id":                  func(sn *subnet) []string { return []string{sn.ID} },
		"vpc-id":                     func(sn *subnet) []string { return []string{sn.VPCID} },
		"cidr-block":                 func(sn *subnet) []string { return []string{sn.CIDR} },
		"cidr":                       func(sn *subnet) []string { return []string{sn.CIDR} },
		"cidrBlock":                  func(sn *subnet) []string { return []string{sn.CIDR} },
		"availability-zone":          func(sn *subnet) []string { return []string{sn.AZ} },
		"availabilityZone":           func(sn *subnet) []string { return []string{sn.AZ} },
		"available-ip-address-count": func(sn *subnet) []string { return []string{strconv.Itoa(availableIPs(sn.CIDR))} },
		"default-for-az":             func(sn *subnet) []string { return []string{"false"} },
		"map-public-ip-on-launch":    func(sn *subnet) []string { return []string{"false"} },
		"owner-id":                   func(sn *subnet) []string { return []string{sn.Account} },
		"state":                      func(sn *subnet) []string { return []string{"available"} },
		"subnet-arn": func(sn *subnet) []string {
			return []string{"arn:aws:ec2:" + sn.Region + ":" + sn.Account + ":subnet/" + sn.ID}
		},
		"availability-zone-id":                             none[*subnet],
		"customer-owned-ipv4-pool":                         none[*subnet],
		"enable-dns64":                                     func(*subnet) []string { return []string{"false"} },
		"enable-lni-at-device-index":                       none[*subnet],
		"ipv6-cidr-block-association.ipv6-cidr-block":      none[*subnet],
		"ipv6-cidr-block-association.association-id":       none[*subnet],
		"ipv6-cidr-block-association.state":                none[*subnet],
		"ipv6-native":                                      func(*subnet) []string { return []string{"false"} },
		"map-customer-owned-ip-on-launch":                  func(*subnet) []string { return []string{"false"} },
		"outpost-arn":                                      none[*subnet],
		"private-dns-name-options-on-launch.hostname-type": none[*subnet],
		"private-dns-name-options-on-launch.enable-resource-name-dns-a-record":    none[*subnet],
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": none[*subnet],
	},
}

type describeSubnetsResp struct {
	ec2Meta
	SubnetSet items[subnetXML] `xml:"subnetSet"`
	NextToken string           `xml:"nextToken,omitempty"`
}

func (s *Sim) describeSubnets(c *ec2Call) (ec2Resp, *apiError) {
	ids := c.p.list("SubnetId")
	filters, aerr := c.p.filters()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := subnetFilters.validate(filters); aerr != nil {
		return nil, aerr
	}
	var all []*subnet
	for _, sn := range sortedValues(s.subnets) {
		if sn.Account == c.account && sn.Region == c.region {
			all = append(all, sn)
		}
	}
	sel, aerr := selectIDs(all, ids, func(sn *subnet) string { return sn.ID }, subnetKind)
	if aerr != nil {
		return nil, aerr
	}
	if c.dryRun {
		return nil, errDryRun
	}
	pg, next, aerr := paginate(subnetFilters.apply(sel, filters), c.p, page{min: 5, max: 1000, idsParam: "subnetIds"}, len(ids) > 0)
	if aerr != nil {
		return nil, aerr
	}
	resp := &describeSubnetsResp{NextToken: next}
	for _, sn := range pg {
		resp.SubnetSet.Item = append(resp.SubnetSet.Item, sn.xml())
	}
	return resp, nil
}
