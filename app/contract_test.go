package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"examkiosk/app/registration"
	"examkiosk/device/camera"
	"examkiosk/device/face"
)

// i18nKeys returns the keys of one top-level section of a message file of
// the UI (frontend/src/i18n/<lang>.ts).
func i18nKeys(t *testing.T, lang, section string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "frontend", "src", "i18n", lang+".ts"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n  "+section+": {\n")
	if i < 0 {
		t.Fatalf("%s.ts has no section %s", lang, section)
	}
	body := s[i+len(section)+6:]
	body = body[:strings.Index(body, "\n  },")]
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s{4}'?([\w.-]+)'?:`).FindAllStringSubmatch(body, -1) {
		keys[m[1]] = true
	}
	return keys
}

// Every code Go sends has its words in both languages of the UI.
func TestEveryCodeHasWords(t *testing.T) {
	var refusals []string
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "refuse" {
				if lit, ok := call.Args[0].(*ast.BasicLit); ok {
					c, _ := strconv.Unquote(lit.Value)
					refusals = append(refusals, c)
				}
			}
			return true
		})
		// FaceResult.Failure codes are errors.<code> too.
		src, _ := os.ReadFile(f)
		for _, m := range regexp.MustCompile(`Failure(?: =|:) "(\w+)"`).FindAllStringSubmatch(string(src), -1) {
			refusals = append(refusals, m[1])
		}
	}
	if len(refusals) < 20 {
		t.Fatalf("found only %d refusal codes in app/*.go", len(refusals))
	}
	regCodes := []string{registration.CodeRequired, registration.CodeTooLong, registration.CodeTooShort, registration.CodeInvalidUTF8,
		registration.CodeControlChars, registration.CodeBadChars, registration.CodeIDLength, registration.CodeIDFormat,
		registration.CodeIDRegion, registration.CodeIDBirthDate, registration.CodeIDBirthFuture, registration.CodeIDCheckDigit,
		registration.CodePhoneFormat, registration.CodeUnknownValue, registration.CodeYearRange, registration.CodeNoCatalog,
		registration.CodeUnknownExam, registration.CodeUnknownPos, registration.CodeExamClosed, registration.CodeNotJPEG,
		registration.CodePhotoFileSmall, registration.CodePhotoSize, registration.CodeBadNumber, registration.CodeDuplicate,
		registration.CodeBadTransition, registration.CodeMismatch}
	fields := []string{registration.FieldName, registration.FieldIDNumber, registration.FieldPhone, registration.FieldEducation,
		registration.FieldMajor, registration.FieldGraduationYear, registration.FieldWorkExperience, registration.FieldExamID,
		registration.FieldPositionID, registration.FieldPhoto, registration.FieldDescriptors, registration.FieldFaceDistance,
		registration.FieldIdentitySource, registration.FieldDeviceID, registration.FieldStatus}
	var problems []string
	for _, c := range []face.Code{face.CodeNoFace, face.CodeMultipleFaces, face.CodeTooFar, face.CodeTooClose, face.CodeOffCenter,
		face.CodeFaceIncomplete, face.CodeHeadTurned, face.CodeHeadTilted, face.CodeHeadUpDown, face.CodeTooDark, face.CodeTooBright,
		face.CodeUnevenLight, face.CodeBlurry, face.CodeEyesClosed, face.CodeMouthOpen, face.CodeOccluded, face.CodeCorrupt,
		face.CodeTooSmall, face.CodeAspect, face.CodeNotColour, face.CodeBackground, face.CodeFileTooSmall, face.CodeFileTooLarge,
		face.CodeNotJPEG, face.CodeFaceMismatch, face.CodeHeadSize, face.CodeEyeLine, face.CodeNoLiveFace, face.CodeLivenessFailed} {
		problems = append(problems, string(c))
	}
	var states []string
	for _, s := range []camera.State{camera.StateStarting, camera.StateOK, camera.StateDisconnected, camera.StateBusy,
		camera.StateNoDevice, camera.StateNotCapture, camera.StateNoPermission, camera.StateUnsupported, camera.StateStalled,
		camera.StateEnded, camera.StateError, camera.StateClosed} {
		states = append(states, string(s))
	}
	prompts := []string{string(face.ActionBlink), string(face.ActionTurnLeft), string(face.ActionTurnRight), string(face.ActionOpenMouth), "passed", "failed"}
	var education []string
	for _, e := range registration.EducationLevels() {
		education = append(education, string(e))
	}
	for _, lang := range []string{"zh-CN", "en"} {
		for section, codes := range map[string][]string{
			"errors": append(refusals, "internal", "form", "step_not_allowed"), "refusal": regCodes, "field": fields,
			"problem": problems, "camera": states, "prompt": prompts, "education": education,
		} {
			have := i18nKeys(t, lang, section)
			for _, c := range codes {
				if !have[c] {
					t.Errorf("frontend/src/i18n/%s.ts: %s.%s has no words", lang, section, c)
				}
			}
		}
	}
}

// shownFields are the struct fields whose text reaches a screen as it is
// (the status strip's detail, a camera's name, ...).
var shownFields = map[string]bool{"Name": true, "Detail": true, "Hint": true, "Message": true, "Label": true, "Title": true, "Text": true}

// shownEnglish returns the string literals of a file that are English
// sentences on their way to a screen: a constant, or a value of a field
// in shownFields, of three words or more (codes are one word; error
// texts for logs are made with fmt and errors, not kept there).
func shownEnglish(file *ast.File) []*ast.BasicLit {
	sentence := func(e ast.Expr) *ast.BasicLit {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil
		}
		v, err := strconv.Unquote(lit.Value)
		if err != nil || strings.ContainsAny(v, "%=/\\{") {
			return nil // a format, a path, a pattern: not words
		}
		words := 0
		for _, w := range strings.Fields(v) {
			if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
				words++
			}
		}
		if words < 3 {
			return nil
		}
		return lit
	}
	var out []*ast.BasicLit
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GenDecl:
			if n.Tok != token.CONST {
				return true
			}
			for _, spec := range n.Specs {
				for _, v := range spec.(*ast.ValueSpec).Values {
					if lit := sentence(v); lit != nil {
						out = append(out, lit)
					}
				}
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && shownFields[k.Name] {
				if lit := sentence(n.Value); lit != nil {
					out = append(out, lit)
				}
			}
		}
		return true
	})
	return out
}

// No Go file of the kiosk application or its devices holds a sentence a
// candidate or staff member reads: those are the UI's (vue-i18n). A string
// literal with Chinese characters is such a sentence; the province names
// of the ID-number rules are data, not words of the UI.
// An English sentence kept as a constant or given to a shown field (a
// camera's name in the status strip) is one too (shownEnglish).
func TestNoSentencesInGo(t *testing.T) {
	allowed := map[string]bool{filepath.Join("registration", "idnumber.go"): true}
	fset := token.NewFileSet()
	for _, root := range []string{".", filepath.Join("..", "device")} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || allowed[path] {
				return err
			}
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				if strings.ContainsFunc(lit.Value, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
					t.Errorf("%s: a sentence for people in Go: %s (give the UI a code; its words go in frontend/src/i18n)", fset.Position(lit.Pos()), lit.Value)
				}
				return true
			})
			for _, lit := range shownEnglish(file) {
				t.Errorf("%s: an English sentence the UI would show: %s (give the UI a code; its words go in frontend/src/i18n)", fset.Position(lit.Pos()), lit.Value)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
