//go:build ignore

// mkfaces computes the face descriptors of the duplicate-search tests
// (eastasia_faces.json) from ../shared/faces/eastasia with the kiosk's
// default recognition model, as a kiosk computes them:
//
//	go run sync/central/testdata/mkfaces.go -faces ../shared/faces/eastasia -out sync/central/testdata/eastasia_faces.json
//
// It keeps the first -people people (by folder name) of whom at least two
// photos have a face, two descriptors each. The photos themselves stay out
// of the repository (their README: evaluation only).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"image"
	_ "image/jpeg"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"examkiosk/device/face"
)

type person struct {
	Name  string      `json:"name"`
	Faces [][]float32 `json:"faces"`
}

type fixture struct {
	Model  string   `json:"model"`
	Kind   string   `json:"kind"`
	Source string   `json:"source"`
	People []person `json:"people"`
}

func main() {
	dir := flag.String("faces", "../shared/faces/eastasia", "folder of people (LFW layout)")
	out := flag.String("out", "sync/central/testdata/eastasia_faces.json", "output file")
	n := flag.Int("people", 24, "people to keep")
	flag.Parse()
	eng, err := face.NewEngine(face.DefaultConfig(), slog.Default())
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	m := eng.Model()
	fx := fixture{Model: m.ID, Kind: string(m.Kind), Source: "go run sync/central/testdata/mkfaces.go on ../shared/faces/eastasia"}
	people, err := os.ReadDir(*dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range people {
		if !p.IsDir() || len(fx.People) == *n {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(*dir, p.Name(), "*.jpg"))
		sort.Strings(files)
		var got [][]float32
		for _, f := range files {
			if len(got) == 2 {
				break
			}
			fh, err := os.Open(f)
			if err != nil {
				log.Fatal(err)
			}
			img, _, err := image.Decode(fh)
			fh.Close()
			if err != nil {
				continue
			}
			d, _, err := eng.Descriptor(context.Background(), img)
			if err != nil {
				continue
			}
			got = append(got, d.Vec)
		}
		if len(got) == 2 {
			fx.People = append(fx.People, person{Name: p.Name(), Faces: got})
		}
	}
	data, err := json.Marshal(fx)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d people, model %s", len(fx.People), fx.Model)
}
