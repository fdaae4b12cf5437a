// Package simcloud is the seam between the Dragonfly Cloud simulator and the
// cloud simulators (AWS, GCP, Azure).
//
// In the real service, Dragonfly's half of a peering lives in the cloud: when
// a connection is created, Dragonfly asks the cloud to create its side (an AWS
// peering request, a GCP network peering, an Azure VNet peering), and the
// connection only turns active once the customer has done their half. The
// Dragonfly simulator models exactly that through this interface, so its
// state machine is driven by what the cloud simulator actually holds rather
// than by a timer.
package simcloud

// Network is Dragonfly's side of a peering, as the Dragonfly API describes a
// network.
type Network struct {
	ID       string
	Name     string
	Provider string // "aws" | "gcp" | "azure"
	Region   string
	CIDR     string
	// VPCResourceID and VPCAccountID are Dragonfly's VPC in the cloud: the AWS
	// VPC ID and account, the GCP network name and project, the Azure VNet
	// name and "/subscriptions/<id>/resourceGroups/<rg>" prefix.
	VPCResourceID string
	VPCAccountID  string
}

// Peer is the customer's side, as given in the create-connection request.
type Peer struct {
	AccountID string // AWS account, GCP project, Azure subscription
	VPCID     string // AWS VPC ID, GCP network name, Azure VNet name
	Region    string
	CIDRBlock string
	Azure     *AzurePeer
}

// AzurePeer carries the Azure-only fields of a connection.
type AzurePeer struct {
	ResourceGroup     string
	TenantID          string
	AppObjectID       string
	UseRemoteGateways bool
}

// PeeringRequest asks a cloud to create Dragonfly's half of a peering.
type PeeringRequest struct {
	ConnectionID string
	Name         string
	Network      Network
	Peer         Peer
}

// PeeringStatus is what the cloud says about a peering it holds.
type PeeringStatus struct {
	// Established is true once the customer's half exists and matches, i.e.
	// traffic can flow: the connection becomes active.
	Established bool
	// Failed, when not empty, is why the peering can never become
	// established (rejected, expired, invalid); the connection becomes
	// failed with this as status_detail.
	Failed string
	// Gone is true when the customer deleted their side of an established
	// peering; the connection becomes irrecoverable.
	Gone bool
}

// Cloud is implemented by each cloud simulator.
type Cloud interface {
	// Provider is "aws", "gcp" or "azure": networks of that provider are
	// peered through this cloud.
	Provider() string
	// CreatePeering creates Dragonfly's half of the peering and returns the
	// ID the Dragonfly API reports as peer_connection_id (pcx-… on AWS, the
	// peering name on GCP and Azure). An error fails the connection, with
	// the error's text as status_detail. It must be idempotent for the same
	// ConnectionID.
	CreatePeering(req PeeringRequest) (peerID string, err error)
	// PeeringStatus reports on a peering CreatePeering made.
	PeeringStatus(peerID string) PeeringStatus
	// DeletePeering removes Dragonfly's half; deleting what is already gone
	// is not an error.
	DeletePeering(peerID string) error
}
