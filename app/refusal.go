package app

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"examkiosk/app/registration"
)

// Refusal is what a bound method's error reaches the UI as (FormatError,
// the window's ErrorFormatter): a code, the field it concerns and the
// arguments of its words. The words are the UI's — vue-i18n, zh-CN first
// (frontend/src/i18n: errors.<code>; a form's problems: refusal.<code> with
// field.<field>). Go never sends a sentence.
type Refusal struct {
	Code     string            `json:"code"`
	Field    string            `json:"field,omitempty"`
	Args     map[string]string `json:"args,omitempty"`
	Problems []Refusal         `json:"problems,omitempty"` // code "form": one per refused field
	cause    error
}

// refuse returns a refusal with code and the arguments given as name,
// value pairs.
func refuse(code string, args ...any) *Refusal {
	r := &Refusal{Code: code}
	for i := 0; i+1 < len(args); i += 2 {
		if r.Args == nil {
			r.Args = map[string]string{}
		}
		r.Args[fmt.Sprint(args[i])] = fmt.Sprint(args[i+1])
	}
	return r
}

// because records the cause (for logs and errors.Is; never shown).
func (r *Refusal) because(err error) *Refusal {
	r.cause = err
	return r
}

// Error describes the refusal for logs: code, field, arguments, cause.
func (r *Refusal) Error() string {
	var b strings.Builder
	b.WriteString("refused: ")
	b.WriteString(r.Code)
	if r.Field != "" {
		b.WriteString(" [" + r.Field + "]")
	}
	keys := make([]string, 0, len(r.Args))
	for k := range r.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, r.Args[k])
	}
	for _, p := range r.Problems {
		b.WriteString("; " + p.Field + ": " + p.Code)
	}
	if r.cause != nil {
		b.WriteString(": " + r.cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (r *Refusal) Unwrap() error { return r.cause }

// fieldRefusal is a registration rule's refusal of one field.
func fieldRefusal(fe *registration.FieldError) Refusal {
	r := Refusal{Code: fe.Code, Field: fe.Field}
	if fe.Arg != "" {
		r.Args = map[string]string{"arg": fe.Arg}
	}
	return r
}

// formRefusal lists every refused field of a validation.
func formRefusal(ve *registration.ValidationError) *Refusal {
	r := &Refusal{Code: "form", cause: ve}
	for _, f := range ve.Fields {
		r.Problems = append(r.Problems, fieldRefusal(f))
	}
	return r
}

// FormatError turns an error of a bound method into what the UI receives: a
// *Refusal. Errors that are not refusals (a bug, a broken disk) become code
// "internal"; their text is logged by the method, not shown.
func FormatError(err error) any {
	var r *Refusal
	var ve *registration.ValidationError
	var fe *registration.FieldError
	var se *StepError
	switch {
	case errors.As(err, &r):
		return r
	case errors.As(err, &ve):
		return formRefusal(ve)
	case errors.As(err, &fe):
		fr := fieldRefusal(fe)
		return &fr
	case errors.As(err, &se):
		return refuse("step_not_allowed", "from", se.From, "to", se.To)
	}
	return refuse("internal").because(err)
}
