package dbt

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// workloadsDir is where the committed guest programs are.
const workloadsDir = "../workloads/bin"

func readWorkload(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(workloadsDir, name))
	require.NoError(t, err)
	return data
}

func TestLoadWorkloads(t *testing.T) {
	for _, name := range workloadNames {
		t.Run(name, func(t *testing.T) {
			p, err := LoadProgram(readWorkload(t, name))
			require.NoError(t, err)
			require.False(t, p.PIE)
			require.Zero(t, p.Base)
			require.True(t, p.RVC)
			require.Equal(t, "double", p.FloatABI)
			require.False(t, p.StackX)
			// glibc static: text (r-x) then data (rw-), which share a
			// 64 KiB page — the mixed page of the patent family.
			require.Len(t, p.Segments, 2)
			text, data := p.Segments[0], p.Segments[1]
			require.Equal(t, PermR|PermX, text.Perm)
			require.Equal(t, PermR|PermW, data.Perm)
			require.Equal(t, uint64(0x10000), text.Vaddr)
			require.Greater(t, data.Memsz, uint64(len(data.Data)), ".bss follows the file bytes")
			require.Equal(t, (text.Vaddr+text.Memsz-1)>>16, data.Vaddr>>16, "text and data share a 64 KiB page")
			require.Equal(t, text.Vaddr+0x40, p.Phdr, "the headers follow the 64-byte ELF header in the first segment")
			require.Equal(t, uint64(56), p.Phent)
			require.GreaterOrEqual(t, p.Phnum, uint64(5))
			require.True(t, p.Entry >= text.Vaddr && p.Entry < text.Vaddr+text.Memsz)
			require.Zero(t, p.Brk()%GuestPageSize)
			require.GreaterOrEqual(t, p.Brk(), data.Vaddr+data.Memsz)
		})
	}
}

// elfBuilder makes small synthetic ELF64 files.
type elfBuilder struct {
	typ     elf.Type
	machine elf.Machine
	class   elf.Class
	data    elf.Data
	flags   uint32
	entry   uint64
	progs   []elf.Prog64
	payload []byte // file bytes after the headers
}

func newBuilder() *elfBuilder {
	return &elfBuilder{typ: elf.ET_EXEC, machine: elf.EM_RISCV, class: elf.ELFCLASS64, data: elf.ELFDATA2LSB,
		flags: 0x5, entry: 0x10078}
}

// textSeg is an r-x segment at 0x10000 that maps the whole file.
func (b *elfBuilder) textSeg() *elfBuilder {
	b.progs = append(b.progs, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Off: 0, Vaddr: 0x10000, Filesz: 0x1000, Memsz: 0x1000, Align: 0x1000})
	return b
}

func (b *elfBuilder) bytes() []byte {
	var buf bytes.Buffer
	hdr := elf.Header64{Type: uint16(b.typ), Machine: uint16(b.machine), Version: 1, Entry: b.entry,
		Phoff: 64, Flags: b.flags, Ehsize: 64, Phentsize: 56, Phnum: uint16(len(b.progs))}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(b.class)
	hdr.Ident[elf.EI_DATA] = byte(b.data)
	hdr.Ident[elf.EI_VERSION] = 1
	order := binary.ByteOrder(binary.LittleEndian)
	if b.data == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	binary.Write(&buf, order, hdr)
	for _, p := range b.progs {
		binary.Write(&buf, order, p)
	}
	buf.Write(b.payload)
	for buf.Len() < 0x1000 {
		buf.WriteByte(0)
	}
	return buf.Bytes()
}

func TestLoadSynthetic(t *testing.T) {
	p, err := LoadProgram(newBuilder().textSeg().bytes())
	require.NoError(t, err)
	require.Equal(t, uint64(0x10078), p.Entry)
	require.Equal(t, uint64(0x10040), p.Phdr)
	require.Equal(t, uint64(0x11000), p.Brk())

	// Static PIE: placed at StaticPIEBase.
	b := newBuilder().textSeg()
	b.typ = elf.ET_DYN
	b.progs[0].Vaddr = 0
	b.entry = 0x80
	p, err = LoadProgram(b.bytes())
	require.NoError(t, err)
	require.True(t, p.PIE)
	require.Equal(t, uint64(StaticPIEBase+0x80), p.Entry)
	require.Equal(t, uint64(StaticPIEBase), p.Segments[0].Vaddr)
	require.Equal(t, uint64(StaticPIEBase+0x40), p.Phdr)
}

func TestLoadErrors(t *testing.T) {
	dynamic, err := os.ReadFile("testdata/hello-dynamic")
	require.NoError(t, err)
	sieve := readWorkload(t, "sieve")
	mod := func(f func(b *elfBuilder)) []byte {
		b := newBuilder().textSeg()
		f(b)
		return b.bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an ELF file"},
		{"text", []byte("#!/bin/sh\necho hi\n"), "not an ELF file"},
		{"dynamic", dynamic, "a dynamically linked executable (it needs /lib/ld-linux-riscv64-lp64d.so.1); twinsim runs static executables: link with -static"},
		{"x86-64", mod(func(b *elfBuilder) { b.machine = elf.EM_X86_64 }), "an x86-64 executable; twinsim runs RISC-V (RV64) Linux programs"},
		{"aarch64", mod(func(b *elfBuilder) { b.machine = elf.EM_AARCH64 }), "an AArch64 (Arm64) executable"},
		{"32-bit", mod(func(b *elfBuilder) { b.class = elf.ELFCLASS32 }), "a 32-bit ELF file"},
		{"big-endian", mod(func(b *elfBuilder) { b.data = elf.ELFDATA2MSB }), "big-endian"},
		{"object", mod(func(b *elfBuilder) { b.typ = elf.ET_REL }), "an object file"},
		{"core", mod(func(b *elfBuilder) { b.typ = elf.ET_CORE }), "a core dump"},
		{"rv64e", mod(func(b *elfBuilder) { b.flags |= 0x8 }), "RV32E/RV64E"},
		{"no headers", mod(func(b *elfBuilder) { b.progs = nil }), "0 program headers"},
		{"no segments", mod(func(b *elfBuilder) { b.progs[0].Type = uint32(elf.PT_NOTE) }), "no loadable segment"},
		{"headers past the end", func() []byte {
			d := newBuilder().textSeg().bytes()
			binary.LittleEndian.PutUint16(d[0x38:], 200) // e_phnum
			return d
		}(), "truncated ELF file: the program headers"},
		{"entry outside", mod(func(b *elfBuilder) { b.entry = 0x90000 }), "entry point 0x90000 is not in an executable segment"},
		{"entry in data", mod(func(b *elfBuilder) { b.progs[0].Flags = uint32(elf.PF_R | elf.PF_W) }), "not in an executable segment"},
		{"filesz > memsz", mod(func(b *elfBuilder) { b.progs[0].Filesz = 0x2000 }), "file size 0x2000 exceeds its memory size"},
		{"segment past file", mod(func(b *elfBuilder) { b.progs[0].Filesz, b.progs[0].Memsz = 0x5000, 0x5000 }), "truncated ELF file"},
		{"page zero", mod(func(b *elfBuilder) { b.progs[0].Vaddr = 0; b.entry = 0x78 }), "overlaps the first page"},
		{"huge address", mod(func(b *elfBuilder) { b.progs[0].Vaddr = 1 << 40 }), "outside the 256 GiB"},
		{"misaligned", mod(func(b *elfBuilder) { b.progs[0].Vaddr = 0x10010 }), "not aligned"},
		{"overlap", mod(func(b *elfBuilder) {
			b.progs = append(b.progs, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W),
				Off: 0, Vaddr: 0x10000, Filesz: 0x100, Memsz: 0x100, Align: 0x1000})
		}), "overlap"},
		{"truncated header", sieve[:40], "malformed ELF file"},
		{"truncated sieve", sieve[:len(sieve)/2], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadProgram(tc.data)
			require.Error(t, err)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzLoadProgram(f *testing.F) {
	f.Add(newBuilder().textSeg().bytes())
	sieve, err := os.ReadFile(filepath.Join(workloadsDir, "recursion"))
	if err == nil {
		f.Add(sieve[:4096])
	}
	dyn, err := os.ReadFile("testdata/hello-dynamic")
	if err == nil {
		f.Add(dyn)
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		var p *Program
		var err error
		go func() { p, err = LoadProgram(data); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("LoadProgram took over 2s on %x", data)
		}
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		// A program that loads is consistent.
		require.NotEmpty(t, p.Segments)
		for i, s := range p.Segments {
			require.LessOrEqual(t, uint64(len(s.Data)), s.Memsz)
			require.Less(t, s.Vaddr+s.Memsz, uint64(maxGuestAddr)+1)
			if i > 0 {
				require.LessOrEqual(t, p.Segments[i-1].Vaddr+p.Segments[i-1].Memsz, s.Vaddr)
			}
		}
		_ = p.Brk()
	})
}

func TestBuildStack(t *testing.T) {
	p, err := LoadProgram(readWorkload(t, "sieve"))
	require.NoError(t, err)
	spec := StackSpec{Top: 0x3ffffff000, Argv: []string{"sieve", "100"}, Envp: []string{"A=1", "HOME=/"},
		ExecFn: "/bin/sieve", Aux: p.Auxv()}
	for i := range spec.Random {
		spec.Random[i] = byte(i * 7)
	}
	sp, img, err := BuildStack(spec)
	require.NoError(t, err)
	require.Zero(t, sp%16, "the ABI wants a 16-byte aligned stack pointer")
	require.Equal(t, spec.Top-sp, uint64(len(img)))
	word := func(a uint64) uint64 { return binary.LittleEndian.Uint64(img[a-sp:]) }
	str := func(a uint64) string {
		off := a - sp
		end := bytes.IndexByte(img[off:], 0)
		return string(img[off : off+uint64(end)])
	}
	require.Equal(t, uint64(2), word(sp))
	require.Equal(t, "sieve", str(word(sp+8)))
	require.Equal(t, "100", str(word(sp+16)))
	require.Zero(t, word(sp+24))
	require.Equal(t, "A=1", str(word(sp+32)))
	require.Equal(t, "HOME=/", str(word(sp+40)))
	require.Zero(t, word(sp+48))
	aux := map[uint64]uint64{}
	a := sp + 56
	for {
		k, v := word(a), word(a+8)
		a += 16
		if k == AT_NULL {
			break
		}
		aux[k] = v
	}
	require.Equal(t, uint64(4096), aux[AT_PAGESZ])
	require.Equal(t, p.Entry, aux[AT_ENTRY])
	require.Equal(t, p.Phdr, aux[AT_PHDR])
	require.Equal(t, p.Phnum, aux[AT_PHNUM])
	require.Equal(t, "/bin/sieve", str(aux[AT_EXECFN]))
	rnd := aux[AT_RANDOM]
	require.Equal(t, spec.Random[:], img[rnd-sp:rnd-sp+16])
	require.Equal(t, uint64(hwcapRV64IMAFDC), aux[AT_HWCAP])
	require.Equal(t, uint64(0x112d), aux[AT_HWCAP], "I, M, A, F, D and C")
	require.Less(t, a, rnd, "the vectors lie below the strings")
	require.Zero(t, word(spec.Top-8), "an 8-byte null guard at the top")

	_, _, err = BuildStack(StackSpec{Top: 0x1001})
	require.ErrorContains(t, err, "not 16-byte aligned")
	_, _, err = BuildStack(StackSpec{Top: 0x100000, Argv: []string{string(make([]byte, 3<<20))}})
	require.ErrorContains(t, err, "E2BIG")
}

func TestPermString(t *testing.T) {
	require.Equal(t, "r-x", (PermR | PermX).String())
	require.Equal(t, "rw-", (PermR | PermW).String())
	require.Equal(t, "---", Perm(0).String())
}
