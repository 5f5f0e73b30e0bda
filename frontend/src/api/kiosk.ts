// The one door from the UI to Go: the generated Wails bindings
// (frontend/wailsjs, written by `make bindings`). Components import from
// here so that unit tests can replace this module.
export { Welcome, Status, ReportRendered } from '../../wailsjs/go/app/App'
export type { app } from '../../wailsjs/go/models'
