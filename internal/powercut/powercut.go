// Package powercut is a test file system that loses, at a simulated power
// cut, every write that was not followed by an fsync or fdatasync.
//
// It is a FUSE file system (github.com/hanwen/go-fuse) holding its files in
// memory. Each file has two contents: what the processes see (every write,
// every truncate) and what the disk would keep (the state at the file's last
// fsync or fdatasync). Cut takes the kept contents at one instant and makes
// every later write fail, as a disk without power would. A program that
// acknowledges data before it is synced loses it in the snapshot; one that
// syncs first does not. A process kill cannot show this: the kernel's page
// cache survives the kill.
//
// The model is the strictest a disk allows for data: no unsynced write
// survives. Directory entries are kept at once (a file exists after its
// create), so the model tests data durability, not the directory's.
//
// An LD_PRELOAD shim on write/fsync would not see a Go program: Go makes its
// system calls directly, not through libc. FUSE sees every write, whoever
// makes it. Mounting needs /dev/fuse and root (mount(2)) or fusermount;
// Mount reports an error the caller can turn into a skip.
//
// Serve the file system from another process than the one that writes to
// it: a page fault on a mapped file blocks a thread the Go runtime cannot
// stop, and the in-process server could then wait for that very stop.
package powercut

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FS is a mounted power-cut file system.
type FS struct {
	dir    string
	server *fuse.Server

	mu    sync.Mutex
	cut   bool
	files map[string]*file
	syncs int
}

// file is one regular file: cur is what readers see, kept what survives a cut.
type file struct {
	fs.Inode
	owner *FS
	name  string
	cur   []byte
	kept  []byte
	// pending lists the writes since the last sync, in order: a torn cut
	// keeps some of their sectors.
	pending []pendingWrite
}

// pendingWrite is one write (or a truncate, when trunc) not yet synced.
type pendingWrite struct {
	off   int64
	data  []byte
	trunc bool
	size  int
}

// Sector is the unit a torn cut keeps or loses: a disk writes whole
// sectors (4 KiB on today's drives and flash).
const Sector = 4096

type root struct {
	fs.Inode
	owner *FS
}

var (
	_ fs.NodeCreater   = (*root)(nil)
	_ fs.NodeFsyncer   = (*root)(nil)
	_ fs.NodeOpener    = (*file)(nil)
	_ fs.NodeReader    = (*file)(nil)
	_ fs.NodeWriter    = (*file)(nil)
	_ fs.NodeFsyncer   = (*file)(nil)
	_ fs.NodeGetattrer = (*file)(nil)
	_ fs.NodeSetattrer = (*file)(nil)
	_ fs.NodeFlusher   = (*file)(nil)
)

// Mount mounts an empty power-cut file system on dir (an existing, empty
// directory). Unmount it with Unmount.
func Mount(dir string) (*FS, error) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("powercut: no FUSE device: %w", err)
	}
	p := &FS{dir: dir, files: map[string]*file{}}
	zero := time.Duration(0)
	server, err := fs.Mount(dir, &root{owner: p}, &fs.Options{
		// No attribute or entry caching: sizes always come from here.
		AttrTimeout:  &zero,
		EntryTimeout: &zero,
		MountOptions: fuse.MountOptions{
			FsName:      "powercut",
			Name:        "powercut",
			DirectMount: true,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("powercut: mount %s: %w", dir, err)
	}
	p.server = server
	return p, nil
}

// Dir returns the mount point.
func (p *FS) Dir() string { return p.dir }

// Syncs returns how many fsync or fdatasync calls reached the file system.
func (p *FS) Syncs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.syncs
}

// Pending returns how many writes and size changes wait for a sync.
func (p *FS) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.files {
		n += len(f.pending)
	}
	return n
}

// Cut simulates a power cut: it returns, per file name, the contents the disk
// keeps (as of each file's last sync), and every later write, truncate or
// sync fails with EIO.
func (p *FS) Cut() map[string][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	out := make(map[string][]byte, len(p.files))
	for name, f := range p.files {
		out[name] = append([]byte(nil), f.kept...)
	}
	return out
}

// CutTorn is Cut on a disk that may have written any of the unsynced
// sectors before the power failed, in any order: each sector of each
// pending write is kept or lost at random (keep(i) reports whether the i-th
// pending sector reached the disk), and pending size changes likewise.
// Synced data is always kept.
func (p *FS) CutTorn(keep func(i int) bool) map[string][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	out := make(map[string][]byte, len(p.files))
	i := 0
	for name, f := range p.files {
		b := append([]byte(nil), f.kept...)
		for _, w := range f.pending {
			if w.trunc {
				if keep(i) {
					b = resize(b, w.size)
				}
				i++
				continue
			}
			for s := int64(0); s < int64(len(w.data)); {
				// Sector boundaries are those of the file.
				end := min(int64(len(w.data)), (w.off+s)/Sector*Sector+Sector-w.off)
				if keep(i) {
					if need := int(w.off + end); need > len(b) {
						b = resize(b, need)
					}
					copy(b[w.off+s:], w.data[s:end])
				}
				i++
				s = end
			}
		}
		out[name] = b
	}
	return out
}

// Unmount unmounts the file system. Processes using it must have exited.
func (p *FS) Unmount() error {
	var err error
	for range 50 {
		if err = p.server.Unmount(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // the killed process's files are still closing
	}
	return fmt.Errorf("powercut: unmount %s: %w", p.dir, err)
}

func (r *root) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	p := r.owner
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return nil, nil, 0, syscall.EIO
	}
	if _, ok := p.files[name]; ok {
		return nil, nil, 0, syscall.EEXIST
	}
	f := &file{owner: p, name: name}
	p.files[name] = f
	ch := r.NewPersistentInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG})
	r.AddChild(name, ch, true)
	f.attr(&out.Attr, mode)
	return ch, nil, 0, 0
}

// Fsync on the directory: entries are kept at once in this model.
func (r *root) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno { return 0 }

func (f *file) attr(a *fuse.Attr, mode uint32) {
	a.Mode = syscall.S_IFREG | 0o600
	if mode != 0 {
		a.Mode = syscall.S_IFREG | mode&0o7777
	}
	a.Size = uint64(len(f.cur))
	a.Blocks = (a.Size + 511) / 512
}

func (f *file) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, 0, 0
}

func (f *file) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.owner.mu.Lock()
	defer f.owner.mu.Unlock()
	f.attr(&out.Attr, 0)
	return 0
}

func (f *file) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.owner.mu.Lock()
	defer f.owner.mu.Unlock()
	if sz, ok := in.GetSize(); ok {
		if f.owner.cut {
			return syscall.EIO
		}
		f.cur = resize(f.cur, int(sz))
		f.pending = append(f.pending, pendingWrite{trunc: true, size: int(sz)})
	}
	f.attr(&out.Attr, 0)
	return 0
}

func (f *file) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.owner.mu.Lock()
	defer f.owner.mu.Unlock()
	if off >= int64(len(f.cur)) {
		return fuse.ReadResultData(nil), 0
	}
	n := copy(dest, f.cur[off:])
	return fuse.ReadResultData(dest[:n]), 0
}

func (f *file) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	f.owner.mu.Lock()
	defer f.owner.mu.Unlock()
	if f.owner.cut {
		return 0, syscall.EIO
	}
	if end := int(off) + len(data); end > len(f.cur) {
		f.cur = resize(f.cur, end)
	}
	copy(f.cur[off:], data)
	f.pending = append(f.pending, pendingWrite{off: off, data: append([]byte(nil), data...)})
	return uint32(len(data)), 0
}

// Fsync serves fsync and fdatasync: what was written is now kept.
func (f *file) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	f.owner.mu.Lock()
	defer f.owner.mu.Unlock()
	if f.owner.cut {
		return syscall.EIO
	}
	f.kept = append(f.kept[:0], f.cur...)
	f.pending = f.pending[:0]
	f.owner.syncs++
	return 0
}

// Flush (close) writes nothing to the disk by itself.
func (f *file) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return 0 }

func resize(b []byte, n int) []byte {
	if n <= len(b) {
		return b[:n]
	}
	if n <= cap(b) {
		old := len(b)
		b = b[:n]
		clear(b[old:])
		return b
	}
	nb := make([]byte, n, n+n/4)
	copy(nb, b)
	return nb
}
