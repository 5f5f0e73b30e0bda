package app

import (
	"bytes"
	"context"
	"errors"
	"time"

	"examkiosk/app/registration"
	"examkiosk/app/ticket"
	"examkiosk/device/printer"
)

// The admission ticket (准考证): the central assigns the seat once the
// exam's ticket window opens and the registration is paid; the ticket
// reaches the kiosk with a pulled update (the registration's Ticket), the
// status screen shows the seat, and the candidate prints the ticket here:
// a PDF (app/ticket) on the kiosk's printer (device/printer, CUPS).

// EventPrint carries a PrintState while a ticket prints.
const EventPrint = "print"

// TicketView is the admission ticket as the status screen shows it (the
// photo and the verification link stay in Go).
type TicketView struct {
	Number      string    `json:"number"`
	SiteName    string    `json:"siteName"`
	SiteAddress string    `json:"siteAddress,omitempty"`
	Room        string    `json:"room"`
	Seat        int       `json:"seat"`
	StartsAt    time.Time `json:"startsAt"`
	EndsAt      time.Time `json:"endsAt"`
}

// PrintState is the state of printing a registration's ticket: printing,
// then printed, or failed with the refusal's code (errors.<code>).
type PrintState struct {
	RegistrationID string `json:"registrationId"`
	State          string `json:"state"` // printing, printed, failed
	Code           string `json:"code,omitempty"`
}

func ticketViewOf(r registration.Registration) *TicketView {
	t := r.Ticket
	if t == nil || r.Status != registration.StatusPaid {
		return nil
	}
	return &TicketView{Number: t.Number, SiteName: t.SiteName, SiteAddress: t.SiteAddress, Room: t.Room, Seat: t.Seat,
		StartsAt: t.StartsAt, EndsAt: t.EndsAt}
}

// PrintTicket prints the admission ticket of one of the logged-in
// candidate's registrations on the kiosk's printer, with the words of the
// UI's language (labels), and returns when the printer finished the job.
// Printing problems come back as refusals (printer_offline,
// printer_no_paper, …) and as EventPrint.
func (a *JourneyService) PrintTicket(id string, labels ticket.Labels) (PrintState, error) {
	a.mu.Lock()
	c, ctx := a.journey.candidate, a.ctx
	a.journey.Touch(a.opts.Now())
	a.mu.Unlock()
	if c == nil {
		return PrintState{}, refuse("login_first")
	}
	regs, err := a.opts.Store.ListByCandidate(ctx, c.IDNumber)
	if err != nil {
		return PrintState{}, err
	}
	var reg *registration.Registration
	for i := range regs {
		if regs[i].ID == id {
			reg = &regs[i]
		}
	}
	if reg == nil || ticketViewOf(*reg) == nil {
		return PrintState{}, refuse("ticket_not_ready")
	}
	if a.opts.Printer == nil {
		return PrintState{}, printRefusal(&printer.Error{Code: printer.CodeNotConfigured, Cause: "printer.queue is empty"})
	}
	font, err := ticket.LoadFont(a.opts.Config.Ticket.Font)
	if err != nil {
		a.log.Error("ticket font", "err", err)
		return PrintState{}, refuse("ticket_font").because(err)
	}
	var pdf bytes.Buffer
	if err := ticket.Render(&pdf, font, *reg.Ticket, ticket.Candidate{Name: reg.Name, MaskedID: maskID(reg.IDNumber)}, labels); err != nil {
		if errors.Is(err, ticket.ErrLabels) {
			return PrintState{}, refuse("ticket_labels").because(err)
		}
		return PrintState{}, err
	}
	st := PrintState{RegistrationID: id, State: "printing"}
	a.emit(EventPrint, st)
	start := time.Now()
	err = a.opts.Printer.Print(context.WithoutCancel(ctx), "ticket "+reg.Ticket.Number, pdf.Bytes())
	if err != nil {
		r := printRefusal(err)
		a.log.Warn("admission ticket not printed", "registration", id, "code", r.Code, "err", err)
		a.emit(EventPrint, PrintState{RegistrationID: id, State: "failed", Code: r.Code})
		return PrintState{}, r
	}
	a.log.Info("admission ticket printed", "registration", id, "number", reg.Ticket.Number, "bytes", pdf.Len(), "took", time.Since(start).Round(time.Millisecond))
	st.State = "printed"
	a.emit(EventPrint, st)
	return st, nil
}

// printRefusal words a printing error as the code the UI words.
func printRefusal(err error) *Refusal {
	switch printer.CodeOf(err) {
	case printer.CodeNotConfigured:
		return refuse("printer_not_configured").because(err)
	case printer.CodeOffline:
		return refuse("printer_offline").because(err)
	case printer.CodeNoPaper:
		return refuse("printer_no_paper").because(err)
	case printer.CodeJammed:
		return refuse("printer_jammed").because(err)
	case printer.CodeTimeout:
		return refuse("printer_timeout").because(err)
	}
	return refuse("printer_failed").because(err)
}
