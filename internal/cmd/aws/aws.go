// Package aws implements `dfpeer aws connect` and `dfpeer aws permissions`.
package aws

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	awsprov "github.com/dragonflydb/dfpeer/internal/provider/aws"
)

// NewCmdAWS returns the `aws` group.
func NewCmdAWS(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aws <command>",
		Short: "Peer a Dragonfly Cloud network with an AWS VPC",
	}
	cmd.AddCommand(NewCmdConnect(f, nil), NewCmdStatus(f, nil), NewCmdDisconnect(f, nil), newCmdPermissions(f))
	return cmd
}

func newCmdPermissions(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "permissions",
		Short: "Print the minimal IAM policy 'dfpeer aws connect' needs",
		Long: `Print, as JSON, the minimal IAM policy covering exactly the AWS actions
'dfpeer aws connect' calls, and the two deletes that taking down what it made
(disconnect) calls: ec2:DeleteRoute and ec2:RevokeSecurityGroupIngress.
Attach it to the role or user that runs dfpeer.`,
		Example: `  dfpeer aws permissions > dfpeer-policy.json
  aws iam create-policy --policy-name dfpeer --policy-document file://dfpeer-policy.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writePolicy(f)
		},
	}
}

// policyDocument is an IAM policy in the form AWS expects.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource string   `json:"Resource"`
}

func writePolicy(f *cmdutil.Factory) error {
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{{
		Sid: "DfpeerConnect", Effect: "Allow", Action: awsprov.Actions,
		// These EC2 actions do not support resource-level scoping for
		// Describe*, and the peering/route/group IDs are only known at
		// run time.
		Resource: "*",
	}}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IOStreams.Out, string(b))
	return err
}
