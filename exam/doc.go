// Package exam holds the words of the registration protocol that the kiosk
// and the central system both speak: the registration statuses and their
// lifecycle, the identity sources, the exam notice's ID photo rules and the
// reviewers' working hours with the one function that says when a review is
// due. It is a leaf: it imports only the standard library, and both
// app/registration (the kiosk) and sync/central import it, so the two sides
// cannot disagree on a rule.
package exam
