package kiosk

import (
	"context"
	"net"
	"time"
)

// WatchInterfaces polls the machine's network interfaces every interval
// and calls onChange(online) when the answer to "is any non-loopback
// interface up with a routable address?" changes (and once at the start).
// Wire it to Client.SetOnline so that a returning network triggers an
// immediate sync instead of waiting out the backoff. It returns when ctx
// ends.
func WatchInterfaces(ctx context.Context, interval time.Duration, onChange func(online bool)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	first, last := true, false
	for {
		up := false
		if ifs, err := net.Interfaces(); err == nil {
			up = anyUsable(ifs, func(ifc net.Interface) ([]net.Addr, error) { return ifc.Addrs() })
		}
		if first || up != last {
			onChange(up)
			first, last = false, up
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// anyUsable reports whether an interface is up, not loopback, and has a
// global unicast address.
func anyUsable(ifs []net.Interface, addrs func(net.Interface) ([]net.Addr, error)) bool {
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		as, err := addrs(ifc)
		if err != nil {
			continue
		}
		for _, a := range as {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
				return true
			}
		}
	}
	return false
}
