#!/usr/sbin/dtrace -s
/*
 * mmap.d  count node's mmap(2) calls by user stack, with JS frames.
 *
 * USAGE: dtrace -s illumos/mmap.d -p PID
 *
 * jstack() names the JS frames through V8's ustack helper (Node 6.17.1, no
 * flags). Each entry is one stack and how many mmaps it made. Ctrl-C to end.
 *
 * EXAMPLE OUTPUT (from the talk, leak2.js on Node 0.8, abridged):
 *   dtrace: script 'illumos/mmap.d' matched 1 probe
 *   ^C
 *               libc.so.1`mmap+0x15
 *               node`_ZN2v88internal15MemoryAllocator20ReserveAlignedMemoryEjjP
 *               ...
 *               run at /home/student/nodeconf/leak2.js line 15
 *               (anon) as (anon) at /home/student/nodeconf/leak2.js line 25
 *                 12
 * The new heap segments are mapped while leak2.js lines 15 and 25 run:
 * look there for what keeps the memory.
 *
 * The talk's one-liner traced `execname == "node"` (every node process) and
 * put the predicate across a line break; this traces only the -p process.
 * With this lab's app, expect renderPage and servePage in the stacks.
 */

syscall::mmap:entry,
syscall::mmap64:entry
/pid == $target/
{
	@[jstack()] = count();
}
