package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// observePeering is the peering Dragonfly requests from its VPC to ours:
// connect accepts it; Dragonfly deletes it with the connection. For status
// it says what state the peering is in and what that means.
func (p *Provider) observePeering(ctx context.Context, cloud *Cloud, w wanted) (peering.Change, error) {
	net := w.net
	c := peering.Change{Action: peering.Accept, Kind: peering.KindPeering, ID: w.pcx, Found: peering.Absent,
		Phase: peering.AfterInactive, Title: "Accept the VPC peering",
		Target: fmt.Sprintf("account %s, %s", cloud.Account, p.c.Region),
		Detail: fmt.Sprintf("peering request from Dragonfly VPC %s (account %s) to %s", net.VPC.ResourceID, net.VPC.AccountID, cloud.VPC.ID)}
	if w.pcx != "" {
		c.Detail += " (" + w.pcx + ")"
		c.Target = w.pcx
		pc, err := p.lookPeering(ctx, w.pcx)
		if err != nil {
			return c, err
		}
		switch {
		case pc == nil:
			c.Reason = recreate
			if w.status {
				c.Action, c.Found = peering.Verify, peering.Different
				c.Detail = fmt.Sprintf("%s no longer exists (deleted, or expired long ago): a connection without its peering cannot work again", w.pcx)
			}
		case verifyPeering(pc, net, cloud, p.c.Region) != nil:
			c.Found, c.Action = peering.NotOurs, peering.Keep
			c.Reason = verifyPeering(pc, net, cloud, p.c.Region).Error()
			if w.status {
				c.Action, c.Found = peering.Verify, peering.Different
				c.Detail, c.Reason = c.Reason, "check the connection's peer with 'dfpeer connections get'"
			}
		default:
			classifyPeering(&c, pc, w)
		}
	} else if w.status {
		// Dragonfly has not made its side yet: the connection check says
		// so; there is nothing on this side to check.
		c.Action = peering.Wait
	}
	if w.teardown {
		c.Action = peering.Remove
		c.Detail = "deleted by Dragonfly Cloud with the connection"
		if w.pcx != "" {
			c.Detail = w.pcx + " " + c.Detail
		}
	}
	return c, nil
}

// classifyPeering reads a peering's state (VpcPeeringConnectionStateReason):
// active is as wanted; pending acceptance is for connect to accept (AWS
// expires a request 7 days after it was made); the final states cannot be
// brought back, only replaced.
func classifyPeering(c *peering.Change, pc *types.VpcPeeringConnection, w wanted) {
	code, msg := peeringState(pc), ""
	if pc.Status != nil {
		msg = aws.ToString(pc.Status.Message)
	}
	switch code {
	case types.VpcPeeringConnectionStateReasonCodeActive:
		c.Found, c.Action = peering.AsWanted, peering.Unchanged
		c.Detail = fmt.Sprintf("%s is active: Dragonfly VPC %s ↔ %s", w.pcx, w.net.VPC.ResourceID, aws.ToString(pc.AccepterVpcInfo.VpcId))
	case types.VpcPeeringConnectionStateReasonCodeProvisioning:
		c.Found, c.Action = peering.AsWanted, peering.Unchanged
		c.Detail = fmt.Sprintf("%s is accepted and provisioning", w.pcx)
	case types.VpcPeeringConnectionStateReasonCodePendingAcceptance, types.VpcPeeringConnectionStateReasonCodeInitiatingRequest:
		c.Found, c.Reason = peering.Different, "pending acceptance"
		if exp := pc.ExpirationTime; exp != nil {
			c.Reason = fmt.Sprintf("pending acceptance; AWS expires the request at %s (7 days after it was made)", exp.UTC().Format("2006-01-02 15:04 UTC"))
		}
	default:
		c.Found = peering.Different
		c.Reason = fmt.Sprintf("%s is %s", w.pcx, code)
		if msg != "" {
			c.Reason += " (" + msg + ")"
		}
		c.Reason += "; a peering in that state can no longer be accepted: " + recreate
		if w.status {
			c.Action = peering.Verify
			c.Detail = fmt.Sprintf("%s is %s", w.pcx, code)
			if msg != "" {
				c.Detail += " (" + msg + ")"
			}
			c.Detail += ": it can no longer be accepted"
			c.Reason = recreate
		}
	}
}

// recreate is the fix for a peering that cannot come back.
const recreate = "recreate the connection: run connect again with --recreate"

// removePeering deletes nothing: the peering is Dragonfly's request, and
// Dragonfly deletes it when the connection is deleted, which a disconnect
// does last.
func removePeering(c peering.Change) (string, error) {
	return fmt.Sprintf("left to Dragonfly Cloud: it deletes %s with the connection", c.ID), nil
}

// ensurePeering accepts the peering after checking it really is this
// connection's; one already accepted is left as it is.
func (p *Provider) ensurePeering(ctx context.Context, s *peering.State, cloud *Cloud) (string, error) {
	pcx := s.Connection.PeerConnectionID
	pc, err := p.describePeering(ctx, pcx, cloud.Account)
	if err != nil {
		return "", err
	}
	if err := verifyPeering(pc, s.Network, cloud, p.c.Region); err != nil {
		return "", err
	}
	s.Result.PeerConnectionID = pcx
	switch code := peeringState(pc); code {
	case types.VpcPeeringConnectionStateReasonCodeActive, types.VpcPeeringConnectionStateReasonCodeProvisioning:
		return fmt.Sprintf("%s already accepted (%s)", pcx, code), nil
	case types.VpcPeeringConnectionStateReasonCodePendingAcceptance:
	default:
		msg := ""
		if pc.Status != nil {
			msg = aws.ToString(pc.Status.Message)
		}
		return "", fmt.Errorf("peering %s is %s (%s); it can no longer be accepted: delete the connection and run again", pcx, code, msg)
	}
	_, err = p.c.EC2.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(pcx)})
	if err != nil {
		// A lost answer or a concurrent run may have accepted it: look
		// again before calling it a failure.
		if again, derr := p.describePeering(ctx, pcx, cloud.Account); derr == nil {
			switch peeringState(again) {
			case types.VpcPeeringConnectionStateReasonCodeActive, types.VpcPeeringConnectionStateReasonCodeProvisioning:
				return fmt.Sprintf("%s already accepted", pcx), nil
			}
		}
		return "", classify("accepting "+pcx+" (ec2:AcceptVpcPeeringConnection)", err)
	}
	return fmt.Sprintf("%s accepted", pcx), nil
}

// lookPeering reads a peering; nil when this account and region cannot see
// it (deleted long ago, or another account's).
func (p *Provider) lookPeering(ctx context.Context, pcx string) (*types.VpcPeeringConnection, error) {
	out, err := p.c.EC2.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{pcx}})
	if err != nil {
		if errorCode(err) == "InvalidVpcPeeringConnectionID.NotFound" {
			return nil, nil
		}
		return nil, classify("reading peering "+pcx+" (ec2:DescribeVpcPeeringConnections)", err)
	}
	if len(out.VpcPeeringConnections) == 0 {
		return nil, nil
	}
	return &out.VpcPeeringConnections[0], nil
}

func (p *Provider) describePeering(ctx context.Context, pcx, account string) (*types.VpcPeeringConnection, error) {
	pc, err := p.lookPeering(ctx, pcx)
	if err != nil {
		return nil, err
	}
	if pc == nil {
		return nil, fmt.Errorf("peering %s is not visible to account %s in %s: Dragonfly created it for another account or region; check the connection's peer with 'dfpeer connections get'", pcx, account, p.c.Region)
	}
	return pc, nil
}

// verifyPeering refuses a peering that is not this connection's: never
// accept someone else's request.
func verifyPeering(pc *types.VpcPeeringConnection, net *dfcloud.Network, cloud *Cloud, region string) error {
	pcx := aws.ToString(pc.VpcPeeringConnectionId)
	acc, req := pc.AccepterVpcInfo, pc.RequesterVpcInfo
	if acc == nil || req == nil {
		return fmt.Errorf("refusing to accept %s: AWS did not describe both sides", pcx)
	}
	var wrong []string
	check := func(what, got, want string) {
		if want != "" && got != "" && got != want {
			wrong = append(wrong, fmt.Sprintf("%s is %s, expected %s", what, got, want))
		} else if want != "" && got == "" && what != "accepter region" && what != "requester region" {
			wrong = append(wrong, fmt.Sprintf("%s is missing, expected %s", what, want))
		}
	}
	check("accepter VPC", aws.ToString(acc.VpcId), cloud.VPC.ID)
	check("accepter account", aws.ToString(acc.OwnerId), cloud.Account)
	check("accepter region", aws.ToString(acc.Region), region)
	check("requester VPC", aws.ToString(req.VpcId), net.VPC.ResourceID)
	check("requester account", aws.ToString(req.OwnerId), net.VPC.AccountID)
	check("requester region", aws.ToString(req.Region), net.Location.Region)
	if len(wrong) > 0 {
		return fmt.Errorf("refusing to accept %s, it is not this connection's peering: %s", pcx, strings.Join(wrong, "; "))
	}
	return nil
}

func peeringState(pc *types.VpcPeeringConnection) types.VpcPeeringConnectionStateReasonCode {
	if pc.Status == nil {
		return ""
	}
	return pc.Status.Code
}
