package gcp

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"cloud.google.com/go/auth"

	"github.com/dragonflydb/dfpeer/internal/problem"
)

// ProjectIDRE is a GCP project ID: 6 to 30 lower-case letters, digits and
// hyphens, starting with a letter and not ending with a hyphen, optionally
// behind a domain ("example.com:my-project", legacy domain-scoped IDs).
var ProjectIDRE = regexp.MustCompile(`^(?:[a-z][-a-z0-9.]{0,61}[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$`)

// resolveProject picks the project: --project, then (outside the sandbox)
// the project of Application Default Credentials, GOOGLE_CLOUD_PROJECT,
// and gcloud's configured project; in the sandbox, the sandbox's.
func resolveProject(ctx context.Context, c Config, creds *auth.Credentials, getenv func(string) string) (project, source string, err error) {
	if c.Project != "" {
		return c.Project, "--project", nil
	}
	if c.Sandbox != nil {
		return c.Sandbox.Project, "the sandbox", nil
	}
	if creds != nil {
		// On a GCE VM this asks the metadata server: bound it.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		p, err := creds.ProjectID(pctx)
		cancel()
		if err == nil && p != "" {
			return checkProject(p, "Application Default Credentials")
		}
	}
	if p := strings.TrimSpace(getenv("GOOGLE_CLOUD_PROJECT")); p != "" {
		return checkProject(p, "GOOGLE_CLOUD_PROJECT")
	}
	if p := strings.TrimSpace(getenv("CLOUDSDK_CORE_PROJECT")); p != "" {
		return checkProject(p, "CLOUDSDK_CORE_PROJECT")
	}
	if p, where := GcloudProject(getenv); p != "" {
		return checkProject(p, where)
	}
	return "", "", problem.Refusef("--project is required: no project in Application Default Credentials, GOOGLE_CLOUD_PROJECT or gcloud's configuration (set one with 'gcloud config set project PROJECT_ID')")
}

func checkProject(p, source string) (string, string, error) {
	if !ProjectIDRE.MatchString(p) {
		return "", "", problem.Refusef("the project %q from %s is not a valid project ID; pass --project", p, source)
	}
	return p, source, nil
}

// GcloudProject reads the project of gcloud's active configuration:
// $CLOUDSDK_CONFIG (default ~/.config/gcloud), the configuration named by
// CLOUDSDK_ACTIVE_CONFIG_NAME or the active_config file, and its
// "[core] project" property. It returns the project and where it was
// found, or "" when there is none.
func GcloudProject(getenv func(string) string) (project, where string) {
	dir := getenv("CLOUDSDK_CONFIG")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		if home == "" {
			return "", ""
		}
		dir = filepath.Join(home, ".config", "gcloud")
	}
	name := strings.TrimSpace(getenv("CLOUDSDK_ACTIVE_CONFIG_NAME"))
	if name == "" {
		b, err := os.ReadFile(filepath.Join(dir, "active_config"))
		if err == nil {
			name = strings.TrimSpace(string(b))
		}
	}
	if name == "" {
		name = "default"
	}
	path := filepath.Join(dir, "configurations", "config_"+name)
	if p := iniValue(path, "core", "project"); p != "" {
		return p, "gcloud configuration " + name
	}
	return "", ""
}

// iniValue reads key in [section] of the INI file at path, as gcloud
// writes its configurations ("key = value").
func iniValue(path, section, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			cur = strings.TrimSpace(line[1 : len(line)-1])
		case cur == section:
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(k) == key {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}
