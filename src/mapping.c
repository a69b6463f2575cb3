/*
 * mapping: file windows mapped read-only, made safe against the file
 * being cut short (see mapping.h). The SIGBUS handler touches only the
 * table of live windows and calls mmap, a system call; it never takes a
 * lock or allocates. A SIGBUS not raised by a live window (another
 * mapping, kill) is handed to the disposition there was before.
 */
#include "mapping.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct live_window {
	char *start;
	size_t length; /* whole pages */
	bool used;
	volatile sig_atomic_t cut_short;
};

static struct live_window live[MAPPING_LIVE_MAX];
static size_t page_size;
static struct sigaction bus_before;
static bool handler_set;

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
	(void)context;
	char *at = info->si_code > 0 ? info->si_addr : NULL; /* not sent by kill() */
	for (size_t i = 0; at != NULL && i < MAPPING_LIVE_MAX; i++) {
		struct live_window *w = &live[i];
		if (!w->used || at < w->start || at >= w->start + w->length)
			continue;
		/* the rest of the window reads as zeros from this page on */
		char *zeroed = w->start + (((size_t)(at - w->start)) & ~(page_size - 1));
		if (mmap(zeroed, (size_t)(w->start + w->length - zeroed), PROT_READ,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		w->cut_short = 1;
		return;
	}
	/* not a window's: as if this handler had never been set */
	sigaction(SIGBUS, &bus_before, NULL);
	if (at == NULL)
		raise(sig);
	/* a fault: returning repeats the access, which now meets the old
	 * disposition */
}

static bool set_handler(void)
{
	if (handler_set)
		return true;
	struct sigaction action;
	memset(&action, 0, sizeof action);
	action.sa_sigaction = on_sigbus;
	action.sa_flags = SA_SIGINFO;
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGBUS, &action, &bus_before) != 0)
		return false;
	handler_set = true;
	return true;
}

/* Known before any window is mapped, so the handler can read it. */
static size_t page(void)
{
	if (page_size == 0)
		page_size = (size_t)sysconf(_SC_PAGESIZE);
	return page_size;
}

uint64_t mapping_page_floor(uint64_t offset)
{
	return offset - offset % page();
}

static int free_slot(void)
{
	for (int i = 0; i < MAPPING_LIVE_MAX; i++)
		if (!live[i].used)
			return i;
	return -1;
}

bool mapping_map(struct mapping *m, int fd, uint64_t offset, size_t length)
{
	int slot = free_slot();
	if (length == 0 || offset % page() != 0 || slot < 0) {
		errno = EINVAL;
		return false;
	}
	if (!set_handler())
		return false;
	/* MAP_POPULATE measured no faster: faults map the cached pages
	 * around them in groups */
	void *bytes = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, (off_t)offset);
	if (bytes == MAP_FAILED)
		return false;
	size_t whole_pages = (length + page_size - 1) / page_size * page_size;
	live[slot] = (struct live_window){ bytes, whole_pages, true, 0 };
	*m = (struct mapping){ bytes, offset, length, slot };
	return true;
}

void mapping_unmap(struct mapping *m)
{
	if (m->bytes == NULL)
		return;
	munmap(m->bytes, m->length);
	live[m->slot].used = false;
	*m = (struct mapping){ .bytes = NULL, .slot = -1 };
}

bool mapping_cut_short(const struct mapping *m)
{
	return m->bytes != NULL && live[m->slot].cut_short;
}
