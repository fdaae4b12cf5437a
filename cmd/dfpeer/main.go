// Command dfpeer connects a Dragonfly Cloud private network to a VPC on AWS,
// GCP or Azure.
package main

import (
	"os"

	"github.com/dragonflydb/dfpeer/internal/app"
)

func main() { os.Exit(app.Main()) }
