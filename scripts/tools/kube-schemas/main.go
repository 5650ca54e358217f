// kube-schemas writes offline JSON schemas for kubeconform.
//
//	kube-schemas standalone -wheel <kubernetes_validate-*.whl> -version v1.34.0 -out <dir>
//	kube-schemas standalone -in <kubernetes-validate vX.Y.0-local-strict dir> -out <dir>
//	    Reads the strict schemas of one Kubernetes version (from the PyPI
//	    wheel of kubernetes-validate, or an unpacked copy of it) and makes each per-kind schema self-contained: the definitions it uses
//	    (transitively) from _definitions.json are copied into its own "$defs"
//	    and every "$ref" points there, so no file refers to another and
//	    nothing is fetched. Output names are kubeconform's
//	    {{.ResourceKind}}{{.KindSuffix}}.json (e.g. deployment-apps-v1.json).
//
//	kube-schemas crd -out <dir> <crd.yaml>...
//	    Converts CustomResourceDefinitions (openAPIV3Schema of each served
//	    version) into strict JSON schemas named like kubeconform expects
//	    (servicemonitor-monitoring-v1.json): nullable and
//	    x-kubernetes-int-or-string become JSON-Schema types, objects with
//	    properties get additionalProperties: false unless
//	    x-kubernetes-preserve-unknown-fields is set, apiVersion/kind are enums.
//
// Used by scripts/tools/install-kubeconform.sh. The module also pins
// controller-gen (a `tool` in go.mod) and the prometheus-operator API types
// from which the monitoring CRDs are generated.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

const defsPrefix = "#/$defs/"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "standalone":
		flags := flag.NewFlagSet("standalone", flag.ExitOnError)
		in := flags.String("in", "", "kubernetes-validate schema dir (with _definitions.json)")
		wheel := flags.String("wheel", "", "kubernetes-validate wheel (.whl)")
		version := flags.String("version", "", "with -wheel: Kubernetes version directory, e.g. v1.34.0")
		out := flags.String("out", "", "output dir")
		_ = flags.Parse(os.Args[2:])
		if *out == "" || (*in == "") == (*wheel == "") || (*wheel != "" && *version == "") {
			usage()
		}
		var src fs.FS
		if *in != "" {
			src = os.DirFS(*in)
		} else {
			src, err = wheelDir(*wheel, *version)
		}
		if err == nil {
			err = standalone(src, *out)
		}
	case "crd":
		flags := flag.NewFlagSet("crd", flag.ExitOnError)
		out := flags.String("out", "", "output dir")
		_ = flags.Parse(os.Args[2:])
		if *out == "" || flags.NArg() == 0 {
			usage()
		}
		err = crds(*out, flags.Args())
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-schemas:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kube-schemas standalone (-in DIR | -wheel WHL -version vX.Y.Z) -out DIR | kube-schemas crd -out DIR CRD.yaml...")
	os.Exit(2)
}

// wheelDir opens the "<version>-local-strict" schema directory inside a
// kubernetes-validate wheel (a zip file).
func wheelDir(wheel, version string) (fs.FS, error) {
	z, err := zip.OpenReader(wheel)
	if err != nil {
		return nil, err
	}
	dir := "kubernetes_validate/kubernetes-json-schema/" + version + "-local-strict"
	sub, err := fs.Sub(z, dir)
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(sub, "_definitions.json"); err != nil {
		return nil, fmt.Errorf("%s has no %s/_definitions.json (is %s in this kubernetes-validate release?)", wheel, dir, version)
	}
	return sub, nil
}

func readJSON(fsys fs.FS, path string) (map[string]any, error) {
	b, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// rewriteRefs walks v, rewrites every "$ref" "<anything>#/$defs/X" to
// "#/$defs/X" and records X in seen (returning the names newly seen).
func rewriteRefs(v any, seen map[string]bool, queue *[]string) error {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if k == "$ref" {
				s, ok := val.(string)
				if !ok {
					// A property named "$ref" (JSONSchemaProps), not a reference.
					if err := rewriteRefs(val, seen, queue); err != nil {
						return err
					}
					continue
				}
				i := strings.Index(s, defsPrefix)
				if i < 0 {
					return fmt.Errorf("unsupported $ref %q", s)
				}
				name := s[i+len(defsPrefix):]
				t[k] = defsPrefix + name
				if !seen[name] {
					seen[name] = true
					*queue = append(*queue, name)
				}
				continue
			}
			if err := rewriteRefs(val, seen, queue); err != nil {
				return err
			}
		}
	case []any:
		for _, val := range t {
			if err := rewriteRefs(val, seen, queue); err != nil {
				return err
			}
		}
	}
	return nil
}

func standalone(in fs.FS, out string) error {
	defsFile, err := readJSON(in, "_definitions.json")
	if err != nil {
		return err
	}
	defs, ok := defsFile["$defs"].(map[string]any)
	if !ok {
		return fmt.Errorf("_definitions.json has no $defs")
	}
	entries, err := fs.ReadDir(in, ".")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, "_") || name == "all.json" {
			continue
		}
		schema, err := readJSON(in, name)
		if err != nil {
			return err
		}
		delete(schema, "$id") // no base URI: nothing may resolve remotely
		seen := map[string]bool{}
		var queue []string
		if err := rewriteRefs(schema, seen, &queue); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		local := map[string]any{}
		for len(queue) > 0 {
			d := queue[0]
			queue = queue[1:]
			def, ok := defs[d]
			if !ok {
				return fmt.Errorf("%s: $ref to unknown definition %q", name, d)
			}
			// Copy via JSON so rewriting does not alias the shared map.
			b, _ := json.Marshal(def)
			var cp any
			_ = json.Unmarshal(b, &cp)
			if err := rewriteRefs(cp, seen, &queue); err != nil {
				return fmt.Errorf("%s: %s: %w", name, d, err)
			}
			local[d] = cp
		}
		if len(local) > 0 {
			schema["$defs"] = local
		}
		if err := writeJSON(filepath.Join(out, name), schema); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no schemas found")
	}
	fmt.Printf("wrote %d standalone schemas to %s\n", n, out)
	return nil
}

// --- CRDs ---

type crdDoc struct {
	Kind string `json:"kind"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
			Schema *struct {
				OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

func crds(out string, files []string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var written []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, docYAML := range splitYAML(raw) {
			j, err := yaml.YAMLToJSON(docYAML)
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			var doc crdDoc
			if err := json.Unmarshal(j, &doc); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if doc.Kind != "CustomResourceDefinition" {
				continue
			}
			groupFirst := strings.SplitN(doc.Spec.Group, ".", 2)[0]
			for _, v := range doc.Spec.Versions {
				if !v.Served || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
					continue
				}
				s := convert(v.Schema.OpenAPIV3Schema).(map[string]any)
				props, _ := s["properties"].(map[string]any)
				if props == nil {
					props = map[string]any{}
					s["properties"] = props
				}
				props["apiVersion"] = map[string]any{"type": "string", "enum": []any{doc.Spec.Group + "/" + v.Name}}
				props["kind"] = map[string]any{"type": "string", "enum": []any{doc.Spec.Names.Kind}}
				s["$schema"] = "http://json-schema.org/draft-07/schema#"
				name := fmt.Sprintf("%s-%s-%s.json", strings.ToLower(doc.Spec.Names.Kind), groupFirst, v.Name)
				if err := writeJSON(filepath.Join(out, name), s); err != nil {
					return err
				}
				written = append(written, name)
			}
		}
	}
	if len(written) == 0 {
		return fmt.Errorf("no CRD schemas found in %v", files)
	}
	sort.Strings(written)
	fmt.Printf("wrote %d CRD schemas to %s: %s\n", len(written), out, strings.Join(written, " "))
	return nil
}

func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// convert turns a structural OpenAPI v3 schema (as in a CRD) into a strict
// JSON schema. Only schema-valued keywords are walked, so values such as
// default, enum or example are copied untouched.
func convert(v any) any {
	t, ok := v.(map[string]any)
	if !ok {
		return v
	}
	m := map[string]any{}
	for k, val := range t {
		switch k {
		case "properties", "patternProperties", "definitions":
			if props, ok := val.(map[string]any); ok {
				cp := map[string]any{}
				for name, sub := range props {
					cp[name] = convert(sub)
				}
				m[k] = cp
				continue
			}
			m[k] = val
		case "items", "additionalProperties", "not", "additionalItems":
			if list, ok := val.([]any); ok {
				cp := make([]any, len(list))
				for i, sub := range list {
					cp[i] = convert(sub)
				}
				m[k] = cp
				continue
			}
			m[k] = convert(val)
		case "allOf", "anyOf", "oneOf":
			if list, ok := val.([]any); ok {
				cp := make([]any, len(list))
				for i, sub := range list {
					cp[i] = convert(sub)
				}
				m[k] = cp
				continue
			}
			m[k] = val
		default:
			m[k] = val
		}
	}
	if b, _ := m["x-kubernetes-int-or-string"].(bool); b {
		delete(m, "type")
		m["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
	}
	if nb, _ := m["nullable"].(bool); nb {
		if typ, ok := m["type"].(string); ok {
			m["type"] = []any{typ, "null"}
		}
		delete(m, "nullable")
	}
	preserve, _ := m["x-kubernetes-preserve-unknown-fields"].(bool)
	if _, hasProps := m["properties"]; hasProps && !preserve {
		if _, set := m["additionalProperties"]; !set {
			m["additionalProperties"] = false
		}
	}
	return m
}
