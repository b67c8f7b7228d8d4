// Package promtest reads what GET /metrics answers, for this module's
// tests: the Prometheus text format parsed with expfmt (not matched as
// strings), and series looked up by name and labels.
//
// It lives under internal/ because it is for this module's tests only.
package promtest

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics are the metric families of one scrape, by name.
type Metrics map[string]*dto.MetricFamily

// Parse reads the Prometheus text format.
func Parse(r io.Reader) (Metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	m, err := p.TextToMetricFamilies(r)
	return Metrics(m), err
}

// Scrape GETs url with c (and the header "Authorization: Bearer token"
// when token is not empty) and parses the reply, which must be a 200.
func Scrape(c *http.Client, url, token string) (Metrics, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return Parse(resp.Body)
}

// Value returns the value of the series of metric name whose labels
// include the given ones (name, value pairs), and whether there is one. A
// counter, gauge or untyped value is read.
func (m Metrics) Value(name string, labels ...string) (float64, bool) {
	for _, s := range m.series(name, labels) {
		switch {
		case s.Counter != nil:
			return s.Counter.GetValue(), true
		case s.Gauge != nil:
			return s.Gauge.GetValue(), true
		case s.Untyped != nil:
			return s.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// Labels returns the values label takes in the series of metric name,
// sorted.
func (m Metrics) Labels(name, label string) []string {
	var out []string
	for _, s := range m.series(name, nil) {
		for _, l := range s.Label {
			if l.GetName() == label {
				out = append(out, l.GetValue())
			}
		}
	}
	sort.Strings(out)
	return out
}

// String lists the series of every family, one a line, as a test prints
// them when it fails.
func (m Metrics) String() string {
	var lines []string
	for name, f := range m {
		for _, s := range f.Metric {
			var ls []string
			for _, l := range s.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			lines = append(lines, name+"{"+strings.Join(ls, ",")+"}")
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (m Metrics) series(name string, labels []string) []*dto.Metric {
	f := m[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
next:
	for _, s := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			if !hasLabel(s, labels[i], labels[i+1]) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

func hasLabel(s *dto.Metric, name, value string) bool {
	for _, l := range s.Label {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
