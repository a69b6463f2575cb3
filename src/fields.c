/*
 * fields: a small scanner for Exim's TAG=value tokens. It knows the value
 * grammar of each tag (quoted, <address>, the multi-word H= host, plain
 * tokens), so values holding spaces are cut correctly; it never copies and
 * never reads past the given length.
 */
#include "fields.h"

#include <string.h>

#include "strbuf.h"

static const char *const tag_names[FIELD_COUNT] = {
#define FIELD_TAG_NAME(e, name) name,
	FIELD_TAGS(FIELD_TAG_NAME)
#undef FIELD_TAG_NAME
};

const char *field_tag_name(enum field_tag tag)
{
	return (unsigned)tag < FIELD_COUNT ? tag_names[tag] : "?";
}

/* The quote closing the one at open: the next one not escaped, which is
 * the next one after an even run of backslashes (back to the opening
 * quote); t.len when there is none. */
static size_t closing_quote(struct text t, size_t open)
{
	for (size_t j = open + 1; j < t.len;) {
		const char *quote = memchr(t.ptr + j, '"', t.len - j);
		if (quote == NULL)
			break;
		size_t at = (size_t)(quote - t.ptr), backslashes = 0;
		while (at - backslashes > open + 1 && t.ptr[at - backslashes - 1] == '\\')
			backslashes++;
		if (backslashes % 2 == 0)
			return at;
		j = at + 1;
	}
	return t.len;
}

long fields_find_host_tag(struct text text)
{
	/* From quote to quote, not byte by byte (every SMTP-time event
	 * without an H= tag is looked through). " H=" holds no quote, so a
	 * match before the next quote is outside quotes. */
	for (size_t i = 0; i < text.len;) {
		const char *quote = memchr(text.ptr + i, '"', text.len - i);
		size_t open = quote ? (size_t)(quote - text.ptr) : text.len;
		long at = text_find(text_make(text.ptr + i, open - i), " H=");
		if (at >= 0)
			return (long)i + at;
		if (quote == NULL)
			break;
		i = closing_quote(text, open) + 1;
	}
	return -1;
}

void fields_clear(struct fields *f)
{
	f->present = 0;
	f->count = 0;
	f->t_is_subject = false;
	f->id_created = false;
}

static void set_field(struct fields *f, enum field_tag tag, const char *p, size_t n)
{
	fields_set(f, tag, text_make(p, n));
}

/* The one-letter tags, by letter, each as its tag + 1 (0: none): most
 * tags on a line are one letter (R=, T=, H=, S=, P=), and a table answers
 * in a load where the switch took a chain of compares. */
static const unsigned char single_letter_tag[128] = {
	['A'] = FIELD_A + 1, ['C'] = FIELD_C + 1, ['D'] = FIELD_D + 1, ['F'] = FIELD_F + 1,
	['H'] = FIELD_H + 1, ['I'] = FIELD_I + 1, ['P'] = FIELD_P + 1, ['Q'] = FIELD_Q + 1,
	['R'] = FIELD_R + 1, ['S'] = FIELD_S + 1, ['T'] = FIELD_T + 1, ['U'] = FIELD_U + 1,
	['X'] = FIELD_X + 1,
};

/* Tags written TAG=value; found by name. Bare words are separate. */
static int tag_by_name(const char *p, size_t n)
{
	switch (n) {
	case 1: {
		unsigned char c = (unsigned char)p[0];
		return c < sizeof single_letter_tag ? (int)single_letter_tag[c] - 1 : -1;
	}
	case 2:
		if (memcmp(p, "Ci", 2) == 0) return FIELD_CI;
		if (memcmp(p, "CV", 2) == 0) return FIELD_CV;
		if (memcmp(p, "DN", 2) == 0) return FIELD_DN;
		if (memcmp(p, "DT", 2) == 0) return FIELD_DT;
		if (memcmp(p, "PS", 2) == 0) return FIELD_PS;
		if (memcmp(p, "QT", 2) == 0) return FIELD_QT;
		if (memcmp(p, "RT", 2) == 0) return FIELD_RT;
		if (memcmp(p, "ST", 2) == 0) return FIELD_ST;
		if (memcmp(p, "id", 2) == 0) return FIELD_ID;
		return -1;
	case 3:
		if (memcmp(p, "M8S", 3) == 0) return FIELD_M8S;
		if (memcmp(p, "PRX", 3) == 0) return FIELD_PRX;
		if (memcmp(p, "SNI", 3) == 0) return FIELD_SNI;
		if (memcmp(p, "SPF", 3) == 0) return FIELD_SPF;
		if (memcmp(p, "id*", 3) == 0) return FIELD_ID;
		return -1;
	case 4:
		if (memcmp(p, "DKIM", 4) == 0) return FIELD_DKIM;
		return -1;
	case 5:
		if (memcmp(p, "DMARC", 5) == 0) return FIELD_DMARC;
		return -1;
	}
	return -1;
}

static int bare_word(const char *p, size_t n)
{
	switch (n) {
	case 1:
		if (p[0] == 'K') return FIELD_K;
		if (p[0] == 'L') return FIELD_L;
		return -1;
	case 2:
		if (memcmp(p, "DS", 2) == 0) return FIELD_DS;
		if (p[0] == 'L' && strchr("-.*", p[1])) return FIELD_L;
		return -1;
	case 3:
		if (memcmp(p, "ARC", 3) == 0) return FIELD_ARC;
		if (memcmp(p, "TFO", 3) == 0) return FIELD_TFO;
		if (memcmp(p, "SPF", 3) == 0) return FIELD_SPF;
		if (memcmp(p, "L.-", 3) == 0) return FIELD_L;
		return -1;
	case 4:
		if (memcmp(p, "PRDR", 4) == 0) return FIELD_PRDR;
		if (memcmp(p, "TFO*", 4) == 0) return FIELD_TFO;
		return -1;
	case 5:
		if (memcmp(p, "DMARC", 5) == 0) return FIELD_DMARC;
		return -1;
	}
	return -1;
}

bool fields_is_tag_token(const char *p, size_t n)
{
	/* A tag name is at most five bytes, so its '=' is among the first
	 * six. Most bodies the classifier asks about have none there ("SMTP
	 * connection from", a third of a busy log): one vector compare says
	 * so, where a byte loop took 58 instructions. */
#ifdef __SSE2__
	if (n >= 16) {
		unsigned eq = (unsigned)_mm_movemask_epi8(bytes_equal16(p, '=')) & 0x3Fu;
		return eq != 0 && tag_by_name(p, (size_t)__builtin_ctz(eq)) >= 0;
	}
#endif
	for (size_t k = 0; k < n && k < 6; k++)
		if (p[k] == '=')
			return tag_by_name(p, k) >= 0;
	return false;
}

/* End of a quoted value starting at s[i] == '"': the first unescaped quote
 * followed by a space, a colon or the end. (DN= does not escape inner
 * quotes, hence "followed by".) Returns the index of the closing quote, or
 * length when there is none. */
static size_t quoted_end(const char *s, size_t length, size_t i)
{
	/* From quote to quote (memchr), not byte by byte: subjects and SMTP
	 * replies are quoted on most lines. A backslash escapes the byte
	 * after it, so a quote is escaped when an odd run of backslashes
	 * comes right before it (back to the opening quote). */
	for (size_t j = i + 1; j < length;) {
		const char *quote = memchr(s + j, '"', length - j);
		if (quote == NULL)
			return length;
		size_t at = (size_t)(quote - s), backslashes = 0;
		while (at - backslashes > i + 1 && s[at - backslashes - 1] == '\\')
			backslashes++;
		if (backslashes % 2 == 0 && (at + 1 == length || s[at + 1] == ' ' || s[at + 1] == ':'))
			return at;
		j = at + 1;
	}
	return length;
}

/* End of "<...>" starting at s[i] == '<': the matching '>' (nesting counts
 * for odd local parts), or the next space when there is none. */
static size_t angle_end(const char *s, size_t length, size_t i)
{
	int depth = 0;
	for (size_t j = i; j < length; j++) {
		if (s[j] == '<')
			depth++;
		else if (s[j] == '>' && --depth == 0)
			return j + 1;
	}
	return bytes_find(s, length, i, ' ');
}

static size_t token_end(const char *s, size_t length, size_t i)
{
	return bytes_find(s, length, i, ' ');
}

/* H= value: [NAME] [DS] [(HELO)] [[IP][:PORT][*]]. Returns its end. */
static size_t host_end(const char *s, size_t length, size_t i)
{
	size_t end = i;
	size_t j = i;
	if (j < length && s[j] != '(' && s[j] != '[') {
		end = j = token_end(s, length, j);
		if (end > i && s[end - 1] == ':' && (end == length || s[end] == ' '))
			return end - 1; /* old per-host form "H=name: text" */
	}
	if (j + 3 <= length && memcmp(s + j, " DS", 3) == 0 &&
	    (j + 3 == length || s[j + 3] == ' '))
		end = j = j + 3;
	size_t k = (j < length && s[j] == ' ') ? j + 1 : j;
	if (k < length && s[k] == '(') {
		const char *close = memchr(s + k, ')', length - k);
		if (close) {
			end = j = (size_t)(close - s) + 1;
			k = (j < length && s[j] == ' ') ? j + 1 : j;
		}
	}
	if (k < length && s[k] == '[') {
		const char *close = memchr(s + k, ']', length - k);
		if (close) {
			j = (size_t)(close - s) + 1;
			if (j < length && s[j] == ':' && j + 1 < length &&
			    s[j + 1] >= '0' && s[j + 1] <= '9')
				for (j++; j < length && s[j] >= '0' && s[j] <= '9'; j++)
					;
			else if (j + 6 <= length && memcmp(s + j, ":PORT_", 6) == 0)
				/* the Exim test suite's munged ports */
				for (j += 6; j < length && s[j] != ' ' && s[j] != '*' && s[j] != ':'; j++)
					;
			if (j < length && s[j] == '*')
				j++;
			end = j;
		}
	}
	return end;
}

static bool at_message(const char *s, size_t length, size_t i)
{
	return i < length && s[i] == ':' && (i + 1 == length || s[i + 1] == ' ');
}

static struct text rest_after_colon(const char *s, size_t length, size_t i)
{
	size_t start = i + 1 < length ? i + 2 : length;
	return text_make(s + start, length - start);
}

/* The value of TAG= whose '=' is at eq; returns the end of the token. */
/* The tag of a TAG=value token [i, end), or -1. Tag names are at most
 * TAG_NAME_MAX bytes, so only that far is looked at for the '=': an '='
 * further on makes a name no tag has (tag_by_name would say -1). */
#define TAG_NAME_MAX 5

static int token_tag(const char *s, size_t i, size_t end, const char **eq)
{
	size_t last = end - i > TAG_NAME_MAX + 1 ? i + TAG_NAME_MAX + 1 : end;
	for (size_t k = i + 1; k < last; k++)
		if (s[k] == '=') {
			*eq = s + k;
			return tag_by_name(s + i, k - i);
		}
	return -1;
}

/* A value of the token [v, token_end_at) as it stands ("S=3887"); where
 * it ends. */
static inline size_t set_plain_value(const char *s, size_t length, size_t v, int tag,
                                     size_t token_end_at, bool stop_at_message,
                                     struct fields *out)
{
	size_t vend = token_end_at;
	if (stop_at_message && vend > v && s[vend - 1] == ':' &&
	    (vend == length || s[vend] == ' '))
		vend--; /* "T=remote_smtp: message" (pre-4.86) */
	set_field(out, (enum field_tag)tag, s + v, vend - v);
	return vend;
}

/* Whether the value at v of a tag's token is set as it stands, with
 * nothing more to read: most are ("P=esmtps", "R=virtual_user"), and
 * fields_scan sets those itself, without scan_tag_value's call. */
static inline bool is_plain_value(const char *s, size_t length, size_t v, int tag)
{
	return tag != FIELD_ID && tag != FIELD_H && tag != FIELD_ST &&
	       (v >= length || (s[v] != '"' && s[v] != '<'));
}

/* token_end: where the token with the '=' ends, as the caller found it
 * (a plain value ends there too). */
static size_t scan_tag_value(const char *s, size_t length, const char *eq, int tag,
                             size_t token_end_at, bool stop_at_message, struct fields *out)
{
	size_t end;
	if (tag == FIELD_ID && eq > s && eq[-1] == '*')
		out->id_created = true;
	size_t v = (size_t)(eq - s) + 1;
	size_t vend;
	if (tag == FIELD_ID && v < length && s[v] == '"') {
		/* id= is never quoted, but a Message-ID's local part may be:
		 * id="a b"@example.net. Skip the quoted part, then to a space. */
		size_t j = v + 1;
		while (j < length && s[j] != '"')
			j += (s[j] == '\\' && j + 1 < length) ? 2 : 1;
		vend = j < length ? token_end(s, length, j) : length;
		set_field(out, FIELD_ID, s + v, vend - v);
		return vend;
	}
	if (v < length && s[v] == '"') {
		vend = quoted_end(s, length, v);
		set_field(out, (enum field_tag)tag, s + v + 1, vend - v - 1);
		return vend < length ? vend + 1 : length;
	}
	if (tag == FIELD_H) {
		vend = host_end(s, length, v);
		set_field(out, FIELD_H, s + v, vend - v);
		return vend;
	}
	if (v < length && s[v] == '<') {
		vend = angle_end(s, length, v);
		set_field(out, (enum field_tag)tag, s + v, vend - v);
		return vend;
	}
	end = set_plain_value(s, length, v, tag, token_end_at, stop_at_message, out);
	if (tag == FIELD_ST && end + 1 < length && s[end] == ' ' && s[end + 1] == '(') {
		const char *close = memchr(s + end, ')', length - end);
		if (close)
			end = (size_t)(close - s) + 1;
		fields_set(out, FIELD_ST, text_make(s + v, end - v));
	}
	return end;
}

int fields_scan(const char *s, size_t length, bool t_is_subject,
                bool stop_at_message, struct fields *out, struct text *message)
{
	int found = 0;
	size_t i = 0;
	out->t_is_subject = t_is_subject;
	if (message)
		*message = text_make(NULL, 0);
	while (i < length) {
		while (i < length && s[i] == ' ')
			i++;
		if (i >= length)
			break;
		if (stop_at_message && at_message(s, length, i)) {
			if (message)
				*message = rest_after_colon(s, length, i);
			return found;
		}
		size_t end = token_end(s, length, i);
		const char *eq = NULL;
		int tag = token_tag(s, i, end, &eq);
		if (tag < 0) {
			int word = bare_word(s + i, end - i);
			if (word >= 0) {
				set_field(out, (enum field_tag)word, s + i, end - i);
				found++;
			} else if (t_is_subject && end - i == 3 && memcmp(s + i, "for", 3) == 0) {
				size_t start = end < length ? end + 1 : length;
				set_field(out, FIELD_FOR, s + start, length - start);
				return found + 1;
			} else if (end - i == 4 && memcmp(s + i, "from", 4) == 0 &&
			           end + 1 < length && s[end + 1] == '<') {
				size_t close = angle_end(s, length, end + 1);
				set_field(out, FIELD_FROM, s + end + 1, close - end - 1);
				end = close;
				found++;
			} else if (end - i == 5 && memcmp(s + i, "defer", 5) == 0 &&
			           end + 1 < length && s[end + 1] == '(') {
				const char *close = memchr(s + end + 1, ')', length - end - 1);
				if (close) {
					set_field(out, FIELD_DEFER, s + end + 2,
					          (size_t)(close - s) - end - 2);
					end = (size_t)(close - s) + 1;
					found++;
				}
			} else if (stop_at_message && s[end - 1] == ':' &&
			           (end == length || s[end] == ' ')) {
				/* "word: message" where the word is not a tag */
				if (message)
					*message = rest_after_colon(s, length, end - 1);
				return found;
			}
			i = end;
			continue;
		}
		size_t v = (size_t)(eq - s) + 1;
		if (is_plain_value(s, length, v, tag))
			end = set_plain_value(s, length, v, tag, end, stop_at_message, out);
		else
			end = scan_tag_value(s, length, eq, tag, end, stop_at_message, out);
		found++;
		i = end;
	}
	return found;
}

void fields_unquote(struct text quoted, struct strbuf *out)
{
	/* a run up to the next backslash at a time: most texts have none */
	const char *p = quoted.ptr, *end = quoted.ptr + quoted.len;
	while (p < end) {
		const char *backslash = memchr(p, '\\', (size_t)(end - p));
		if (backslash == NULL) {
			strbuf_append(out, p, (size_t)(end - p));
			return;
		}
		strbuf_append(out, p, (size_t)(backslash - p));
		p = backslash + 1;
		if (p < end && (*p == '"' || *p == '\\'))
			strbuf_append_char(out, *p++); /* the escaped character */
		else
			strbuf_append_char(out, '\\'); /* a backslash that escapes nothing */
	}
}

bool fields_parse_host(struct text h, struct host_view *out)
{
	memset(out, 0, sizeof *out);
	const char *s = h.ptr;
	size_t n = h.len, i = 0;
	if (n == 0)
		return false;
	if (s[0] != '(' && s[0] != '[') {
		size_t e = token_end(s, n, 0);
		out->name = text_make(s, e);
		i = e;
	}
	while (i < n && s[i] == ' ')
		i++;
	if (i + 2 <= n && memcmp(s + i, "DS", 2) == 0 && (i + 2 == n || s[i + 2] == ' ')) {
		out->dnssec = true;
		i += 2;
		while (i < n && s[i] == ' ')
			i++;
	}
	if (i < n && s[i] == '(') {
		const char *close = memchr(s + i, ')', n - i);
		size_t e = close ? (size_t)(close - s) : n;
		out->helo = text_make(s + i + 1, e - i - 1);
		i = close ? e + 1 : n;
		while (i < n && s[i] == ' ')
			i++;
	}
	if (i < n && s[i] == '[') {
		const char *close = memchr(s + i, ']', n - i);
		size_t e = close ? (size_t)(close - s) : n;
		out->ip = text_make(s + i + 1, e - i - 1);
		i = close ? e + 1 : n;
		if (i < n && s[i] == ':') {
			size_t p = i + 1;
			while (i + 1 < n && s[i + 1] != '*' && s[i + 1] != ' ')
				i++;
			out->port = text_make(s + p, i + 1 - p);
			i++;
		}
		if (i < n && s[i] == '*')
			out->reused = true;
	}
	return out->ip.len > 0 || out->name.len > 0;
}

bool fields_next_reply_line(struct text reply, size_t *pos, struct text *line)
{
	if (*pos > reply.len || (*pos == reply.len && reply.len > 0))
		return false;
	if (reply.len == 0) { /* an empty view may have ptr NULL (text.h) */
		*line = reply;
		*pos = 1;
		return true;
	}
	const char *start = reply.ptr + *pos;
	size_t left = reply.len - *pos;
	/* Exim writes the newline as backslash-n, doubled inside C="...".
	 * text_find, not memmem: glibc's set-up for a two-byte needle cost
	 * 530 instructions a reply, where a backslash is rare. */
	long at = text_find(text_make(start, left), "\\n");
	const char *hit = at >= 0 ? start + at : NULL;
	if (hit == NULL) {
		*line = text_make(start, left);
		*pos = reply.len + 1;
		return true;
	}
	size_t len = (size_t)(hit - start);
	size_t skip = 2;
	if (len > 0 && start[len - 1] == '\\') /* "\\n" */
		len--;
	*line = text_make(start, len);
	*pos += (size_t)(hit - start) + skip;
	return true;
}

static bool is_status_code(const char *s, size_t n, size_t *used)
{
	/* class.subject.detail: [245].[0-9]{1,3}.[0-9]{1,3} */
	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	size_t i = 2, digits = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 3)
		i++, digits++;
	if (digits == 0 || i >= n || s[i] != '.')
		return false;
	i++;
	digits = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 3)
		i++, digits++;
	if (digits == 0 || (i < n && s[i] != ' ' && s[i] != '\\'))
		return false;
	*used = i;
	return true;
}

bool fields_parse_reply(struct text s, struct smtp_reply_view *out)
{
	memset(out, 0, sizeof *out);
	if (s.len < 3 || s.ptr[0] < '2' || s.ptr[0] > '5' || s.ptr[1] < '0' ||
	    s.ptr[1] > '9' || s.ptr[2] < '0' || s.ptr[2] > '9')
		return false;
	if (s.len > 3 && s.ptr[3] != ' ' && s.ptr[3] != '-')
		return false;
	out->code = (s.ptr[0] - '0') * 100 + (s.ptr[1] - '0') * 10 + (s.ptr[2] - '0');
	size_t i = s.len > 3 ? 4 : 3, used;
	if (is_status_code(s.ptr + i, s.len - i, &used)) {
		out->status = text_make(s.ptr + i, used);
		i += used;
		if (i < s.len && s.ptr[i] == ' ')
			i++;
	}
	struct text rest = text_skip(s, i);
	size_t pos = 0;
	fields_next_reply_line(rest, &pos, &out->text);
	return true;
}

size_t fields_scan_prefix(const char *s, size_t length, struct fields *out)
{
	size_t i = 0;
	while (i < length) {
		size_t start = i;
		while (i < length && s[i] == ' ')
			i++;
		if (i >= length)
			return length;
		size_t end = token_end(s, length, i);
		const char *eq = NULL;
		int tag = token_tag(s, i, end, &eq);
		if (tag >= 0) {
			i = scan_tag_value(s, length, eq, tag, end, true, out);
			continue;
		}
		int word = bare_word(s + i, end - i);
		if (word < 0)
			return i > start ? i : start;
		set_field(out, (enum field_tag)word, s + i, end - i);
		i = end;
	}
	return length;
}
