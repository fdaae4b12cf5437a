package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// NetworkGetter is the part of the Dragonfly client that resolving a
// network needs.
type NetworkGetter interface {
	GetNetwork(ctx context.Context, id string) (*dfcloud.Network, error)
	ListNetworks(ctx context.Context) ([]dfcloud.Network, error)
}

// ResolveNetwork finds a network by ID or by its unique name. flag names the
// flag or argument the value came from, for the error message.
func ResolveNetwork(ctx context.Context, api NetworkGetter, ref, flag string) (*dfcloud.Network, error) {
	ref, err := Arg(ref, flag, "give a network ID or name (see 'dfpeer networks list')")
	if err != nil {
		return nil, err
	}
	n, err := api.GetNetwork(ctx, ref)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, dfcloud.ErrNotFound) {
		var apiErr *dfcloud.APIError
		// An ID-shaped lookup of a name may be refused as malformed
		// rather than not found; fall through to the name search then.
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
			return nil, err
		}
	}
	all, err := api.ListNetworks(ctx)
	if err != nil {
		return nil, err
	}
	var matches []dfcloud.Network
	for _, n := range all {
		if n.Name == ref {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 1:
		return &matches[0], nil
	case 0:
		names := make([]string, 0, len(all))
		for _, n := range all {
			names = append(names, n.Name)
		}
		sort.Strings(names)
		valid := "there are no networks in this account"
		if len(names) > 0 {
			valid = "valid names: " + strings.Join(names, ", ")
		}
		return nil, InputErrorf("%s %s: no network has this ID or name (%s)", flag, Quote(ref), valid)
	default:
		ids := make([]string, len(matches))
		for i, n := range matches {
			ids[i] = n.NetworkID
		}
		return nil, InputErrorf("%s %s: %d networks have this name; use an ID: %s", flag, Quote(ref), len(matches), strings.Join(ids, ", "))
	}
}

// RequireProvider checks that a network can be peered from a <provider>
// command: it must be active and of that provider.
func RequireProvider(n *dfcloud.Network, provider, flag string) error {
	if n.Location.Provider != provider {
		return InputErrorf("%s %s (%s): is %s network; 'dfpeer %s connect' needs an active %s network (see 'dfpeer networks list')",
			flag, n.Name, n.NetworkID, WithArticle(ProviderName(n.Location.Provider)), provider, ProviderName(provider))
	}
	if n.Status != dfcloud.NetworkActive {
		return InputErrorf("%s %s (%s): status is %s; a network can only be peered when it is active", flag, n.Name, n.NetworkID, n.Status)
	}
	return nil
}

// NetworkLabel is how a network is shown in prompts and plans.
func NetworkLabel(n *dfcloud.Network) string {
	return fmt.Sprintf("%s (%s, %s, %s)", n.Name, n.NetworkID, n.Location.Region, n.CIDRBlock)
}
