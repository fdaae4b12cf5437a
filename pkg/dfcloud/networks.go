package dfcloud

import (
	"context"
	"net/http"
)

// NetworkStatus is the lifecycle state of a network.
type NetworkStatus string

// Network statuses. Only an active network can be peered.
const (
	NetworkPending  NetworkStatus = "pending"
	NetworkActive   NetworkStatus = "active"
	NetworkFailed   NetworkStatus = "failed"
	NetworkDeleting NetworkStatus = "deleting"
	NetworkDeleted  NetworkStatus = "deleted"
)

// Location is the cloud and region a network lives in.
type Location struct {
	Provider string `json:"provider"` // "aws", "gcp" or "azure"
	Region   string `json:"region"`
}

// VPC is Dragonfly's side of a network, which the customer's side peers
// with: the AWS VPC ID and account ID, the GCP network name and project ID,
// or the Azure VNet name and its "/subscriptions/<id>/resourceGroups/<rg>"
// prefix.
type VPC struct {
	ResourceID string `json:"resource_id"`
	AccountID  string `json:"account_id"`
}

// Network is a Dragonfly Cloud private network.
type Network struct {
	NetworkID string        `json:"network_id"`
	Status    NetworkStatus `json:"status"`
	CreatedAt int64         `json:"created_at"` // Unix seconds
	Name      string        `json:"name"`
	Location  Location      `json:"location"`
	CIDRBlock string        `json:"cidr_block"`
	// VPC is nil until the network has been provisioned.
	VPC *VPC `json:"vpc,omitempty"`
}

// NetworkConfig is what creates or updates a network.
type NetworkConfig struct {
	Name      string   `json:"name"`
	Location  Location `json:"location"`
	CIDRBlock string   `json:"cidr_block"`
}

// ListNetworks returns the account's networks (deleted ones excluded).
func (c *Client) ListNetworks(ctx context.Context) ([]Network, error) {
	var out []Network
	if err := c.do(ctx, http.MethodGet, "/v1/networks", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetNetwork returns one network; a network that does not exist gives an
// error matching ErrNotFound.
func (c *Client) GetNetwork(ctx context.Context, id string) (*Network, error) {
	p, err := escapeID("network", id)
	if err != nil {
		return nil, err
	}
	var out Network
	if err := c.do(ctx, http.MethodGet, "/v1/networks/"+p, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateNetwork starts creating a network; it is returned pending.
func (c *Client) CreateNetwork(ctx context.Context, cfg NetworkConfig) (*Network, error) {
	var out Network
	if err := c.do(ctx, http.MethodPost, "/v1/networks", cfg, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateNetwork replaces a network's configuration. Send the whole
// configuration; the service may refuse to change location or CIDR block.
func (c *Client) UpdateNetwork(ctx context.Context, id string, cfg NetworkConfig) (*Network, error) {
	p, err := escapeID("network", id)
	if err != nil {
		return nil, err
	}
	var out Network
	if err := c.do(ctx, http.MethodPut, "/v1/networks/"+p, cfg, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteNetwork starts deleting a network.
func (c *Client) DeleteNetwork(ctx context.Context, id string) error {
	p, err := escapeID("network", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/networks/"+p, nil, nil)
}
