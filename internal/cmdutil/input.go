package cmdutil

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// maxQuoted is how much of a value an error message quotes: enough to
// recognise it, never a 100 KB line.
const maxQuoted = 80

// Quote is %q of a value the user gave, cut to a readable length, for
// error messages: a 100 KB --name must not become a 100 KB line.
func Quote(v string) string {
	if utf8.RuneCountInString(v) <= maxQuoted {
		return fmt.Sprintf("%q", v)
	}
	r := []rune(v)
	return fmt.Sprintf("%q… (%d characters in all)", string(r[:maxQuoted]), len(r))
}

// Arg trims a positional argument or flag value that names something (an
// ID, a network) and refuses it when nothing is left: an empty ID would
// otherwise reach the API and fail there, naming nothing. what names the
// argument or flag for the message ("ID", "--network"), valid says what to
// give instead.
func Arg(value, what, valid string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", FlagErrorf("%s is empty: %s", what, valid)
	}
	if textsafe.HasControl(v) {
		return "", FlagErrorf("invalid value %s for %s: it contains control characters; %s", Quote(v), what, valid)
	}
	return v, nil
}

// ProviderName is how a cloud is written in messages.
func ProviderName(p string) string {
	switch p {
	case "aws":
		return "AWS"
	case "gcp":
		return "GCP"
	case "azure":
		return "Azure"
	case "":
		return "unknown-provider"
	}
	return textsafe.CleanN(p, 40)
}

// WithArticle puts "a" or "an" before a word, by its sound for the words
// messages use ("an AWS network", "an Azure network", "a GCP network",
// "an unknown-provider network").
func WithArticle(word string) string {
	if word == "" {
		return "a"
	}
	switch strings.ToUpper(word[:1]) {
	case "A", "E", "I", "O", "U":
		return "an " + word
	}
	return "a " + word
}

var awsRegionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// CheckAWSEnv checks the AWS SDK settings dfpeer does not parse itself, so
// that a bad one is refused before the first request (exit 2, naming the
// variable) instead of failing inside the SDK after its retries.
// regionFlag is --region: when given, the environment's region is not used
// and not checked.
func CheckAWSEnv(getenv func(string) string, regionFlag string) error {
	if regionFlag == "" {
		for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
			if v := getenv(name); v != "" && !awsRegionRE.MatchString(v) {
				return FlagErrorf("invalid value %s for %s: want an AWS region such as us-east-1 (or pass --region)", Quote(v), name)
			}
		}
	}
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS"} {
		if v := getenv(name); v != "" {
			if err := checkEndpointURL(v, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkEndpointURL accepts an absolute http(s) URL with a host and a valid
// port, as the SDK needs. Only scheme, host and path are ever shown: a
// token pasted into a query must not reach a CI log.
func checkEndpointURL(raw, name string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return FlagErrorf("%s: want an absolute https:// URL such as https://ec2.us-east-1.amazonaws.com", name)
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return FlagErrorf("%s %s: user info, a query or a fragment is not allowed", name, shown)
	}
	if err := checkPort(u); err != nil {
		return FlagErrorf("%s %s: %v", name, shown, err)
	}
	return nil
}
