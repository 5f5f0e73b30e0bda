//go:build bindings

package main

// generatingBindings is true in the build that writes frontend/wailsjs
// (make bindings): the binary then only reflects over the bound types.
const generatingBindings = true
