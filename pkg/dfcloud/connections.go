package dfcloud

import (
	"context"
	"net/http"
)

// ConnectionStatus is the lifecycle state of a peering connection.
type ConnectionStatus string

// Connection statuses.
const (
	// ConnectionPending: Dragonfly is setting up its half.
	ConnectionPending ConnectionStatus = "pending"
	// ConnectionInactive: Dragonfly's half exists (PeerConnectionID is
	// set) and waits for the customer to accept or peer back.
	ConnectionInactive ConnectionStatus = "inactive"
	// ConnectionActive: the peering is established.
	ConnectionActive ConnectionStatus = "active"
	// ConnectionFailed: the connection could not be set up.
	ConnectionFailed ConnectionStatus = "failed"
	// ConnectionIrrecoverable: the customer deleted their half.
	ConnectionIrrecoverable ConnectionStatus = "irrecoverable"
	// ConnectionDeleting and ConnectionDeleted: being or been removed.
	ConnectionDeleting ConnectionStatus = "deleting"
	ConnectionDeleted  ConnectionStatus = "deleted"
)

// Terminal reports whether a connection in this status can never become
// active: failed, irrecoverable and deleted.
func (s ConnectionStatus) Terminal() bool {
	switch s {
	case ConnectionFailed, ConnectionIrrecoverable, ConnectionDeleted:
		return true
	}
	return false
}

// AzurePeer holds the Azure-only fields of a peer.
type AzurePeer struct {
	ResourceGroup string `json:"resource_group"`
	TenantID      string `json:"tenant_id"`
	// AppObjectID is the customer's Azure AD application. The provider
	// documents it as the object ID while the console asks for the app
	// (client) ID; callers choose, see the project notes.
	AppObjectID       string `json:"app_object_id"`
	UseRemoteGateways bool   `json:"use_remote_gateways"`
}

// Peer is the customer's VPC.
type Peer struct {
	AccountID string `json:"account_id"` // AWS account, GCP project, Azure subscription
	VPCID     string `json:"vpc_id"`     // AWS VPC ID, GCP network name, Azure VNet name
	// Region is the acceptor's region; on AWS, needed when it differs from
	// the network's.
	Region    string     `json:"region,omitempty"`
	CIDRBlock string     `json:"cidr_block,omitempty"`
	Azure     *AzurePeer `json:"azure,omitempty"`
}

// ConnectionConfig is what creates a connection. Connections cannot be
// updated: changing one means deleting and re-creating it.
type ConnectionConfig struct {
	Name      string `json:"name"`
	NetworkID string `json:"network_id"`
	Peer      Peer   `json:"peer"`
}

// Connection is a peering between a Dragonfly network and a customer VPC.
type Connection struct {
	ConnectionID string           `json:"connection_id"`
	Status       ConnectionStatus `json:"status"`
	StatusDetail string           `json:"status_detail"`
	// PeerConnectionID is the cloud's ID for the peering (pcx-… on AWS,
	// the peering name on GCP and Azure); empty while pending.
	PeerConnectionID string           `json:"peer_connection_id"`
	Config           ConnectionConfig `json:"connection_config"`
}

// ListConnections returns the account's connections (deleted ones
// excluded).
func (c *Client) ListConnections(ctx context.Context) ([]Connection, error) {
	var out []Connection
	if err := c.do(ctx, http.MethodGet, "/v1/connections", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetConnection returns one connection; a connection that does not exist,
// or has been deleted, gives an error matching ErrNotFound.
func (c *Client) GetConnection(ctx context.Context, id string) (*Connection, error) {
	p, err := escapeID("connection", id)
	if err != nil {
		return nil, err
	}
	var out Connection
	if err := c.do(ctx, http.MethodGet, "/v1/connections/"+p, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateConnection starts creating a connection; it is returned pending.
// It is never retried once the request may have reached the service, so a
// network failure can leave a connection that was created after all: look
// it up by name before creating again.
func (c *Client) CreateConnection(ctx context.Context, cfg ConnectionConfig) (*Connection, error) {
	var out Connection
	if err := c.do(ctx, http.MethodPost, "/v1/connections", cfg, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteConnection starts deleting a connection. Deleting one that is
// already being deleted succeeds; one that is gone gives ErrNotFound.
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	p, err := escapeID("connection", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/connections/"+p, nil, nil)
}
