package gcp

// ConnectRun lets the command tests run connect with options they filled
// (a fake NewCloud) after the command parsed the flags.
var ConnectRun = connectRun
