package awssim

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"time"
)

// VPC peering connection states (VpcPeeringConnectionStateReason.code).
const (
	stateInitiating   = "initiating-request"
	statePending      = "pending-acceptance"
	stateProvisioning = "provisioning"
	stateActive       = "active"
	stateRejected     = "rejected"
	stateDeleted      = "deleted"
	stateFailed       = "failed"
	stateExpired      = "expired"
)

// failedMessage is the status message AWS gives a request that cannot be
// set up: the accepter VPC does not exist where it was said to be, or the
// two VPCs' CIDRs overlap.
const failedMessage = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"

// How long a peering in a final state stays visible, per the VPC peering
// life cycle (VPC Peering Guide): a failed request to its requester for 2
// hours; a rejected one to the requester for 2 days and to the accepter for
// 2 hours; an expired one to both for 2 days; a deleted one to the deleting
// party for 2 hours and to the other for 2 days.
const (
	shortVisibility = 2 * time.Hour
	longVisibility  = 48 * time.Hour
)

type peerSide struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	VPCID   string `json:"vpcId"`
}

type peering struct {
	ID        string    `json:"id"`
	Requester peerSide  `json:"requester"`
	Accepter  peerSide  `json:"accepter"`
	State     string    `json:"state"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// AcceptedAt is zero until accepted.
	AcceptedAt time.Time `json:"acceptedAt"`
	// ChangedAt is when the current state was entered; the visibility
	// windows of final states count from it.
	ChangedAt time.Time `json:"changedAt"`
	DeletedBy string    `json:"deletedBy,omitempty"`
	// WasActive records that traffic could flow at some point, which is
	// what tells "the customer deleted an established peering" apart from
	// "a request was withdrawn".
	WasActive    bool   `json:"wasActive"`
	ConnectionID string `json:"connectionId,omitempty"`
	// Tags are per account: each side tags its own view of the peering.
	Tags map[string]tags `json:"tags"`
}

// advance applies the state changes time brings: provisioning turns active
// after Delays.Provisioning, and a request left pending expires after 7
// days. Called with the lock held before every request is answered.
func (s *Sim) advance(now time.Time) {
	for _, p := range s.pcxs {
		switch p.State {
		case statePending:
			if !now.Before(p.ExpiresAt) {
				p.State, p.Message, p.ChangedAt = stateExpired, "Expired", p.ExpiresAt
			}
		case stateProvisioning:
			if at := p.AcceptedAt.Add(s.opts.Delays.Provisioning); !now.Before(at) {
				p.State, p.Message, p.ChangedAt, p.WasActive = stateActive, "Active", at, true
			}
		}
	}
}

// visibleTo reports whether a DescribeVpcPeeringConnections by account in
// region would list the peering: only the two owners see it, only in the two
// VPCs' regions, and final states fade out after their visibility window.
func (p *peering) visibleTo(account, region string, now time.Time) bool {
	isReq, isAcc := account == p.Requester.Account, account == p.Accepter.Account
	if !isReq && !isAcc {
		return false
	}
	if region != p.Requester.Region && region != p.Accepter.Region {
		return false
	}
	var window time.Duration
	switch p.State {
	case stateFailed:
		if !isReq {
			return false
		}
		window = shortVisibility
	case stateRejected:
		window = shortVisibility
		if isReq {
			window = longVisibility
		}
	case stateExpired:
		window = longVisibility
	case stateDeleted:
		window = longVisibility
		if account == p.DeletedBy || (isReq && isAcc) {
			window = shortVisibility
		}
	default:
		return true
	}
	return now.Before(p.ChangedAt.Add(window))
}

func (p *peering) tagsFor(account string) tags {
	if t := p.Tags[account]; t != nil {
		return t
	}
	return tags{}
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// createPeering is CreateVpcPeeringConnection's core, shared with
// simcloud.CreatePeering. As on AWS, a request towards a VPC that does not
// exist (or overlaps) is still created, and fails.
func (s *Sim) createPeering(req *vpc, peerAccount, peerVPCID, peerRegion string, t tags, now time.Time, dryRun bool) (*peering, *apiError) {
	if aerr := vpcKind.checkShape(peerVPCID); aerr != nil {
		return nil, aerr
	}
	if !accountIDPattern.MatchString(peerAccount) {
		return nil, invalidValue("Invalid value '%s' for peerOwnerId. It must be a 12-digit AWS account ID.", peerAccount)
	}
	if !ValidRegion(peerRegion) {
		return nil, invalidValue("Invalid value '%s' for peerRegion.", peerRegion)
	}
	if peerVPCID == req.ID {
		return nil, invalidValue("The requester VPC and the accepter VPC must be different: %s", peerVPCID)
	}
	for _, o := range sortedValues(s.pcxs) {
		switch o.State {
		case statePending, stateProvisioning, stateActive:
		default:
			continue
		}
		same := o.Requester.VPCID == req.ID && o.Accepter.VPCID == peerVPCID
		reverse := o.Requester.VPCID == peerVPCID && o.Accepter.VPCID == req.ID
		if same || reverse {
			return nil, clientErr("VpcPeeringConnectionAlreadyExists",
				"A VPC peering connection between %s and %s already exists (%s)", req.ID, peerVPCID, o.ID)
		}
	}
	if dryRun {
		return nil, errDryRun
	}
	p := &peering{
		ID:        s.ids.next("pcx"),
		Requester: peerSide{Account: req.Account, Region: req.Region, VPCID: req.ID},
		Accepter:  peerSide{Account: peerAccount, Region: peerRegion, VPCID: peerVPCID},
		State:     statePending, Message: "Pending Acceptance by " + peerAccount,
		CreatedAt: now, ExpiresAt: now.Add(PendingExpiry), ChangedAt: now,
		Tags: map[string]tags{},
	}
	if len(t) > 0 {
		p.Tags[req.Account] = t
	}
	if acc, ok := s.vpcOf(peerAccount, peerRegion, peerVPCID); !ok || cidrsOverlap(req.CIDRs, acc.CIDRs) {
		p.State, p.Message = stateFailed, failedMessage
	}
	s.pcxs[p.ID] = p
	return p, nil
}

func cidrsOverlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if netip.MustParsePrefix(x).Overlaps(netip.MustParsePrefix(y)) {
				return true
			}
		}
	}
	return false
}

// visiblePeering resolves a VpcPeeringConnectionId for account in region:
// a peering the caller cannot see does not exist, as far as it can tell.
func (s *Sim) visiblePeering(account, region, id string, now time.Time) (*peering, *apiError) {
	if id == "" {
		return nil, missingParam("vpcPeeringConnectionId")
	}
	if aerr := pcxKind.checkShape(id); aerr != nil {
		return nil, aerr
	}
	p, ok := s.pcxs[id]
	if !ok || !p.visibleTo(account, region, now) {
		return nil, pcxKind.notFound(id)
	}
	return p, nil
}

func invalidTransition(p *peering, to string) *apiError {
	return clientErr("InvalidStateTransition", "Invalid state transition for %s, attempted to transition from %s to %s",
		p.ID, p.State, to)
}

// acceptPeering: only the accepter account may accept, only in the accepter
// VPC's region, and only a pending request.
func (s *Sim) acceptPeering(account, region, id string, now time.Time, dryRun bool) (*peering, *apiError) {
	p, aerr := s.visiblePeering(account, region, id, now)
	if aerr != nil {
		return nil, aerr
	}
	if account != p.Accepter.Account {
		return nil, clientErr("OperationNotPermitted", "User %s cannot accept peering %s", account, p.ID)
	}
	if region != p.Accepter.Region {
		return nil, clientErr("OperationNotPermitted",
			"Incorrect region (%s) specified for this request. VPC peering connection %s must be accepted in region %s",
			region, p.ID, p.Accepter.Region)
	}
	if p.State != statePending {
		return nil, invalidTransition(p, stateProvisioning)
	}
	if dryRun {
		return nil, errDryRun
	}
	p.State, p.Message, p.AcceptedAt, p.ChangedAt = stateProvisioning, "Provisioning", now, now
	s.advance(now) // a zero provisioning delay activates at once
	return p, nil
}

// rejectPeering follows acceptPeering's rules.
func (s *Sim) rejectPeering(account, region, id string, now time.Time, dryRun bool) (*peering, *apiError) {
	p, aerr := s.visiblePeering(account, region, id, now)
	if aerr != nil {
		return nil, aerr
	}
	if account != p.Accepter.Account {
		return nil, clientErr("OperationNotPermitted", "User %s cannot reject peering %s", account, p.ID)
	}
	if region != p.Accepter.Region {
		return nil, clientErr("OperationNotPermitted",
			"Incorrect region (%s) specified for this request. VPC peering connection %s must be rejected in region %s",
			region, p.ID, p.Accepter.Region)
	}
	if p.State != statePending {
		return nil, invalidTransition(p, stateRejected)
	}
	if dryRun {
		return nil, errDryRun
	}
	p.State, p.Message, p.ChangedAt = stateRejected, "Rejected by "+account, now
	return p, nil
}

// deletePeering: either owner may delete an active (or provisioning)
// peering; only the requester may withdraw a pending request; a failed,
// rejected, expired or deleted one cannot be deleted.
func (s *Sim) deletePeering(account, region, id string, now time.Time, dryRun bool) (*peering, *apiError) {
	p, aerr := s.visiblePeering(account, region, id, now)
	if aerr != nil {
		return nil, aerr
	}
	switch p.State {
	case stateActive, stateProvisioning:
	case statePending:
		if account != p.Requester.Account {
			return nil, clientErr("OperationNotPermitted", "User %s cannot delete peering %s", account, p.ID)
		}
	default:
		return nil, invalidTransition(p, "deleting")
	}
	if dryRun {
		return nil, errDryRun
	}
	p.State, p.Message, p.DeletedBy, p.ChangedAt = stateDeleted, "Deleted by "+account, account, now
	return p, nil
}

type cidrXML struct {
	CidrBlock string `xml:"cidrBlock"`
}

type peeringOptionsXML struct {
	AllowDNSResolutionFromRemoteVpc            bool `xml:"allowDnsResolutionFromRemoteVpc"`
	AllowEgressFromLocalClassicLinkToRemoteVpc bool `xml:"allowEgressFromLocalClassicLinkToRemoteVpc"`
	AllowEgressFromLocalVpcToRemoteClassicLink bool `xml:"allowEgressFromLocalVpcToRemoteClassicLink"`
}

type peeringVpcInfoXML struct {
	OwnerID        string             `xml:"ownerId"`
	VpcID          string             `xml:"vpcId"`
	CidrBlock      string             `xml:"cidrBlock,omitempty"`
	CidrBlockSet   *items[cidrXML]    `xml:"cidrBlockSet,omitempty"`
	PeeringOptions *peeringOptionsXML `xml:"peeringOptions,omitempty"`
	Region         string             `xml:"region"`
}

type peeringStatusXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type peeringXML struct {
	VpcPeeringConnectionID string            `xml:"vpcPeeringConnectionId"`
	RequesterVpcInfo       peeringVpcInfoXML `xml:"requesterVpcInfo"`
	AccepterVpcInfo        peeringVpcInfoXML `xml:"accepterVpcInfo"`
	Status                 peeringStatusXML  `xml:"status"`
	ExpirationTime         string            `xml:"expirationTime,omitempty"`
	TagSet                 items[tagXML]     `xml:"tagSet"`
}

// peeringXML renders a peering as account sees it. The accepter's CIDRs are
// only revealed once the request has been accepted, as on AWS.
func (s *Sim) peeringXML(p *peering, account string) peeringXML {
	out := peeringXML{
		VpcPeeringConnectionID: p.ID,
		RequesterVpcInfo:       peeringVpcInfoXML{OwnerID: p.Requester.Account, VpcID: p.Requester.VPCID, Region: p.Requester.Region},
		AccepterVpcInfo:        peeringVpcInfoXML{OwnerID: p.Accepter.Account, VpcID: p.Accepter.VPCID, Region: p.Accepter.Region},
		Status:                 peeringStatusXML{Code: p.State, Message: p.Message},
		TagSet:                 tagSet(p.tagsFor(account)),
	}
	withCIDRs := func(info *peeringVpcInfoXML, v *vpc) {
		info.CidrBlock = v.CIDRs[0]
		set := &items[cidrXML]{}
		for _, c := range v.CIDRs {
			set.Item = append(set.Item, cidrXML{c})
		}
		info.CidrBlockSet = set
		if p.State == stateActive {
			info.PeeringOptions = &peeringOptionsXML{}
		}
	}
	if v, ok := s.vpcs[p.Requester.VPCID]; ok {
		withCIDRs(&out.RequesterVpcInfo, v)
	}
	if p.WasActive || p.State == stateProvisioning || p.State == stateActive {
		if v, ok := s.vpcs[p.Accepter.VPCID]; ok {
			withCIDRs(&out.AccepterVpcInfo, v)
		}
	}
	if p.State == statePending {
		out.ExpirationTime = p.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return out
}

func (s *Sim) peeringFilters(account string) filterSet[*peering] {
	cidrsOf := func(side peerSide, revealed func(*peering) bool) func(*peering) []string {
		return func(p *peering) []string {
			if v, ok := s.vpcs[side.VPCID]; ok && (revealed == nil || revealed(p)) {
				return v.CIDRs
			}
			return nil
		}
	}
	accepted := func(p *peering) bool {
		return p.WasActive || p.State == stateProvisioning || p.State == stateActive
	}
	return filterSet[*peering]{
		tagsOf: func(p *peering) map[string]string { return p.tagsFor(account) },
		attrs: map[string]func(*peering) []string{
			"vpc-peering-connection-id":   func(p *peering) []string { return []string{p.ID} },
			"status-code":                 func(p *peering) []string { return []string{p.State} },
			"status-message":              func(p *peering) []string { return []string{p.Message} },
			"requester-vpc-info.vpc-id":   func(p *peering) []string { return []string{p.Requester.VPCID} },
			"requester-vpc-info.owner-id": func(p *peering) []string { return []string{p.Requester.Account} },
			"requester-vpc-info.cidr-block": func(p *peering) []string {
				return cidrsOf(p.Requester, nil)(p)
			},
			"accepter-vpc-info.vpc-id":   func(p *peering) []string { return []string{p.Accepter.VPCID} },
			"accepter-vpc-info.owner-id": func(p *peering) []string { return []string{p.Accepter.Account} },
			"accepter-vpc-info.cidr-block": func(p *peering) []string {
				return cidrsOf(p.Accepter, accepted)(p)
			},
			"expiration-time": func(p *peering) []string {
				if p.State != statePending {
					return nil
				}
				return []string{p.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000Z")}
			},
		},
	}
}

type describePeeringsResp struct {
	ec2Meta
	Set       items[peeringXML] `xml:"vpcPeeringConnectionSet"`
	NextToken string            `xml:"nextToken,omitempty"`
}

func (s *Sim) describePeerings(c *ec2Call) (ec2Resp, *apiError) {
	ids := c.p.list("VpcPeeringConnectionId")
	filters, aerr := c.p.filters()
	if aerr != nil {
		return nil, aerr
	}
	fs := s.peeringFilters(c.account)
	if aerr := fs.validate(filters); aerr != nil {
		return nil, aerr
	}
	var all []*peering
	for _, p := range sortedValues(s.pcxs) {
		if p.visibleTo(c.account, c.region, c.now) {
			all = append(all, p)
		}
	}
	sel, aerr := selectIDs(all, ids, func(p *peering) string { return p.ID }, pcxKind)
	if aerr != nil {
		return nil, aerr
	}
	if c.dryRun {
		return nil, errDryRun
	}
	pg, next, aerr := paginate(fs.apply(sel, filters), c.p, page{min: 5, max: 1000, idsParam: "vpcPeeringConnectionIds"}, len(ids) > 0)
	if aerr != nil {
		return nil, aerr
	}
	resp := &describePeeringsResp{NextToken: next}
	for _, p := range pg {
		resp.Set.Item = append(resp.Set.Item, s.peeringXML(p, c.account))
	}
	return resp, nil
}

type peeringResp struct {
	ec2Meta
	Peering peeringXML `xml:"vpcPeeringConnection"`
}

// parseTagSpecs reads TagSpecification.N for one resource type.
func parseTagSpecs(p params, resourceType string) (tags, *apiError) {
	out := tags{}
	for _, i := range p.indexes("TagSpecification") {
		prefix := "TagSpecification." + strconv.Itoa(i)
		if rt := p.str(prefix + ".ResourceType"); rt != resourceType {
			return nil, invalidValue("'%s' is not a valid taggable resource type for this operation.", rt)
		}
		tagIdx := p.indexes(prefix + ".Tag")
		if len(tagIdx) == 0 {
			return nil, invalidValue("Tag specification must have at least one tag")
		}
		for _, j := range tagIdx {
			k := p.str(fmt.Sprintf("%s.Tag.%d.Key", prefix, j))
			if k == "" {
				return nil, clientErr("InvalidTagKey.Malformed", "Tag keys cannot be empty.")
			}
			out[k] = p.str(fmt.Sprintf("%s.Tag.%d.Value", prefix, j))
		}
	}
	return out, nil
}

func (s *Sim) createPeeringAPI(c *ec2Call) (ec2Resp, *apiError) {
	vpcID := c.p.str("VpcId")
	if vpcID == "" {
		return nil, missingParam("vpcId")
	}
	if aerr := vpcKind.checkShape(vpcID); aerr != nil {
		return nil, aerr
	}
	req, ok := s.vpcOf(c.account, c.region, vpcID)
	if !ok {
		return nil, vpcKind.notFound(vpcID)
	}
	peerVPC := c.p.str("PeerVpcId")
	if peerVPC == "" {
		return nil, missingParam("peerVpcId")
	}
	peerOwner, peerRegion := c.account, c.region
	if c.p.has("PeerOwnerId") {
		peerOwner = c.p.str("PeerOwnerId")
	}
	if c.p.has("PeerRegion") {
		peerRegion = c.p.str("PeerRegion")
	}
	t, aerr := parseTagSpecs(c.p, "vpc-peering-connection")
	if aerr != nil {
		return nil, aerr
	}
	p, aerr := s.createPeering(req, peerOwner, peerVPC, peerRegion, t, c.now, c.dryRun)
	if aerr != nil {
		return nil, aerr
	}
	out := s.peeringXML(p, c.account)
	if p.State == statePending {
		// The API answers before the request has reached the accepter.
		out.Status = peeringStatusXML{Code: stateInitiating, Message: "Initiating Request to " + p.Accepter.Account}
	}
	return &peeringResp{Peering: out}, nil
}

func (s *Sim) acceptPeeringAPI(c *ec2Call) (ec2Resp, *apiError) {
	p, aerr := s.acceptPeering(c.account, c.region, c.p.str("VpcPeeringConnectionId"), c.now, c.dryRun)
	if aerr != nil {
		return nil, aerr
	}
	return &peeringResp{Peering: s.peeringXML(p, c.account)}, nil
}

func (s *Sim) rejectPeeringAPI(c *ec2Call) (ec2Resp, *apiError) {
	if _, aerr := s.rejectPeering(c.account, c.region, c.p.str("VpcPeeringConnectionId"), c.now, c.dryRun); aerr != nil {
		return nil, aerr
	}
	return &returnResp{Return: true}, nil
}

func (s *Sim) deletePeeringAPI(c *ec2Call) (ec2Resp, *apiError) {
	if _, aerr := s.deletePeering(c.account, c.region, c.p.str("VpcPeeringConnectionId"), c.now, c.dryRun); aerr != nil {
		return nil, aerr
	}
	return &returnResp{Return: true}, nil
}
