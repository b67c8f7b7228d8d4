// Package kubemount lays out a folder as the kubelet mounts a Kubernetes
// ConfigMap (or Secret) volume, and updates it the way the kubelet does,
// so that tests can check that a file watcher sees the update.
//
// The kubelet never writes a file the pod reads. Each key is a symbolic
// link, KEY -> ..data/KEY; ..data is a link to a timestamped folder,
// ..2026_12_06_11_00_00.123456789, that holds the files. An update writes
// a new timestamped folder, points a new link ..data_tmp at it, renames
// ..data_tmp over ..data (one atomic step: a reader sees the old files or
// the new ones), adds the links of new keys, removes those of dropped
// keys, and removes the old folder. A watcher that watches the files by
// name sees none of it: only links and folders are created, renamed and
// removed beside them.
//
// The package is for this module's tests; it imports only the standard
// library.
package kubemount
