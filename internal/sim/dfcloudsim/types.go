package dfcloudsim

// The wire types below are the simulator's own copy of the Dragonfly Cloud
// API shapes. They deliberately do not come from pkg/dfcloud: if the client
// got a field name wrong, a shared type would make the simulator agree with
// the bug instead of catching it.

// Network statuses, as the API spells them.
const (
	NetworkPending  = "pending"
	NetworkActive   = "active"
	NetworkFailed   = "failed"
	NetworkDeleting = "deleting"
	NetworkDeleted  = "deleted"
)

// Connection statuses, as the API spells them.
const (
	ConnPending       = "pending"
	ConnInactive      = "inactive"
	ConnActive        = "active"
	ConnFailed        = "failed"
	ConnIrrecoverable = "irrecoverable"
	ConnDeleting      = "deleting"
	ConnDeleted       = "deleted"
)

// Location is where a network lives.
type Location struct {
	Provider string `json:"provider"`
	Region   string `json:"region"`
}

// VPC is Dragonfly's side of a network in the cloud: the AWS VPC ID and
// account, the GCP network name and project, or the Azure VNet name and its
// "/subscriptions/<id>/resourceGroups/<rg>" prefix.
type VPC struct {
	ResourceID string `json:"resource_id"`
	AccountID  string `json:"account_id"`
}

// Network is a Dragonfly Cloud private network as GET /v1/networks/{id}
// returns it.
type Network struct {
	NetworkID string   `json:"network_id"`
	Status    string   `json:"status"`
	CreatedAt int64    `json:"created_at"`
	Name      string   `json:"name"`
	Location  Location `json:"location"`
	CIDRBlock string   `json:"cidr_block"`
	VPC       *VPC     `json:"vpc,omitempty"`
}

// networkConfig is the body of POST and PUT /v1/networks. The Terraform
// provider also sends "byoc" (bring your own cloud account); it is accepted
// so that such clients are not refused, and otherwise ignored.
type networkConfig struct {
	Name      string   `json:"name"`
	Location  Location `json:"location"`
	CIDRBlock string   `json:"cidr_block"`
	BYOC      *struct {
		AccountID string `json:"account_id"`
	} `json:"byoc,omitempty"`
}

// AzurePeer holds the Azure-only fields of a peer.
type AzurePeer struct {
	ResourceGroup     string `json:"resource_group"`
	TenantID          string `json:"tenant_id"`
	AppObjectID       string `json:"app_object_id"`
	UseRemoteGateways bool   `json:"use_remote_gateways"`
}

func (a *AzurePeer) empty() bool {
	return a == nil || *a == AzurePeer{}
}

// Peer is the customer's VPC a connection peers with.
type Peer struct {
	AccountID string     `json:"account_id"`
	VPCID     string     `json:"vpc_id"`
	Region    string     `json:"region,omitempty"`
	CIDRBlock string     `json:"cidr_block,omitempty"`
	Azure     *AzurePeer `json:"azure,omitempty"`
}

// ConnectionConfig is the body of POST /v1/connections, echoed back as
// connection_config.
type ConnectionConfig struct {
	Name      string `json:"name"`
	NetworkID string `json:"network_id"`
	Peer      Peer   `json:"peer"`
}

// Connection is a peering connection as GET /v1/connections/{id} returns it.
type Connection struct {
	ConnectionID     string           `json:"connection_id"`
	Status           string           `json:"status"`
	StatusDetail     string           `json:"status_detail"`
	PeerConnectionID string           `json:"peer_connection_id"`
	Config           ConnectionConfig `json:"connection_config"`
}

type errorBody struct {
	Error string `json:"error"`
}
