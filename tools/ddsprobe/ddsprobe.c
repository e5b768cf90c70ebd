/*
 * ddsprobe: one DDS endpoint (a publisher or a subscriber) of the QosProbe type, with every QoS
 * policy the QoS drills need set from the command line, reporting what Cyclone DDS observes as
 * JSON lines on stdout. ddsperf cannot set durability, deadline, lifespan or liveliness and does
 * not report incompatible QoS, hence this probe.
 *
 * Every line is one object with a "kind"; timestamps ("t", "sent", "recv") are CLOCK_MONOTONIC
 * nanoseconds, the clock Node's process.hrtime.bigint() reads, shared by all network namespaces.
 * Exit codes: 0 after a normal stop (duration over, SIGTERM/SIGINT, parent gone), 1 when DDS
 * itself fails, 2 for bad arguments (an "error" line names the flag).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "dds/dds.h"
#include "dds/ddsc/dds_statistics.h"
#include "QosProbe.h"

enum role { ROLE_PUB, ROLE_SUB };

struct options {
  enum role role;
  const char *topic;
  dds_reliability_kind_t reliability;
  dds_durability_kind_t durability;
  dds_history_kind_t history;
  int32_t depth;
  int64_t deadline_ms;   /* -1: infinite */
  int64_t lifespan_ms;   /* -1: infinite */
  dds_liveliness_kind_t liveliness;
  int64_t lease_ms;      /* -1: infinite */
  int64_t max_blocking_ms;
  uint32_t domain;
  int64_t duration_ms;   /* -1: until a signal */
  long parent_pid;       /* 0: not checked */
  double rate_hz;
  uint32_t size;
  bool start_after_match;
  int64_t count;         /* -1: unlimited */
};

static volatile sig_atomic_t stop_requested = 0;

static void on_stop_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One line per event, flushed at once: the harness reacts to events while the probe runs. */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
}

/* Messages are fixed strings and flag names from argv that passed check_token below, or are
 * printed only after such a check, so no JSON escaping is needed beyond refusing quotes. */
static void json_safe_copy(char *dst, size_t n, const char *src) {
  size_t j = 0;
  for (size_t i = 0; src[i] != '\0' && j + 1 < n; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[j++] = (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) ? '?' : (char)c;
  }
  dst[j] = '\0';
}

static void usage_error(const char *flag, const char *message) {
  char f[128], m[256];
  json_safe_copy(f, sizeof f, flag);
  json_safe_copy(m, sizeof m, message);
  emit("{\"kind\":\"error\",\"flag\":\"%s\",\"message\":\"%s %s\"}", f, f, m);
  exit(2);
}

static void dds_error(const char *what, dds_return_t rc) {
  char w[128];
  json_safe_copy(w, sizeof w, what);
  emit("{\"kind\":\"error\",\"flag\":null,\"message\":\"%s failed: %s\"}", w, dds_strretcode(rc));
  exit(1);
}

static int64_t parse_int(const char *flag, const char *text, int64_t min, int64_t max) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    char msg[160];
    snprintf(msg, sizeof msg, "must be an integer in [%" PRId64 ", %" PRId64 "]", min, max);
    usage_error(flag, msg);
  }
  return (int64_t)v;
}

static double parse_positive(const char *flag, const char *text) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v > 0) || v > 1e6)
    usage_error(flag, "must be a number in (0, 1e6]");
  return v;
}

static const char *value_of(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) usage_error(argv[*i], "needs a value");
  return argv[++*i];
}

static void parse_history(const char *v, struct options *o) {
  if (strcmp(v, "keep_all") == 0) {
    o->history = DDS_HISTORY_KEEP_ALL;
    o->depth = 1;
  } else if (strncmp(v, "keep_last:", 10) == 0) {
    o->history = DDS_HISTORY_KEEP_LAST;
    o->depth = (int32_t)parse_int("--history", v + 10, 1, 100000);
  } else {
    usage_error("--history", "must be keep_last:N or keep_all");
  }
}

static void parse_liveliness(const char *v, struct options *o) {
  const char *colon = strchr(v, ':');
  size_t n = colon ? (size_t)(colon - v) : strlen(v);
  if (n == 9 && strncmp(v, "automatic", n) == 0)
    o->liveliness = DDS_LIVELINESS_AUTOMATIC;
  else if (n == 21 && strncmp(v, "manual_by_participant", n) == 0)
    o->liveliness = DDS_LIVELINESS_MANUAL_BY_PARTICIPANT;
  else if (n == 15 && strncmp(v, "manual_by_topic", n) == 0)
    o->liveliness = DDS_LIVELINESS_MANUAL_BY_TOPIC;
  else
    usage_error("--liveliness", "must be automatic|manual_by_participant|manual_by_topic[:LEASE_MS]");
  o->lease_ms = colon ? parse_int("--liveliness", colon + 1, 1, 86400000) : -1;
}

/* DDS topic names allow more, but these are all fleetdrill uses and they need no JSON escaping. */
static void check_topic(const char *t) {
  if (t[0] == '\0' || strlen(t) > 200) usage_error("--topic", "must be 1..200 characters");
  for (const char *p = t; *p; p++)
    if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') || *p == '_' || *p == '/'))
      usage_error("--topic", "may only hold letters, digits, '_' and '/'");
}

static void parse_args(int argc, char **argv, struct options *o) {
  bool have_rel = false, have_dur = false, have_hist = false;
  memset(o, 0, sizeof *o);
  o->deadline_ms = o->lifespan_ms = o->lease_ms = o->duration_ms = -1;
  o->liveliness = DDS_LIVELINESS_AUTOMATIC;
  o->max_blocking_ms = 100; /* the DDS default for reliable writers */
  o->rate_hz = 10;
  o->size = 64;
  o->count = -1;
  if (argc < 2) usage_error("role", "must be pub or sub (first argument)");
  if (strcmp(argv[1], "pub") == 0)
    o->role = ROLE_PUB;
  else if (strcmp(argv[1], "sub") == 0)
    o->role = ROLE_SUB;
  else
    usage_error("role", "must be pub or sub (first argument)");
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--topic") == 0) {
      o->topic = value_of(argc, argv, &i);
      check_topic(o->topic);
    } else if (strcmp(a, "--reliability") == 0) {
      const char *v = value_of(argc, argv, &i);
      if (strcmp(v, "reliable") == 0) o->reliability = DDS_RELIABILITY_RELIABLE;
      else if (strcmp(v, "best_effort") == 0) o->reliability = DDS_RELIABILITY_BEST_EFFORT;
      else usage_error(a, "must be reliable or best_effort");
      have_rel = true;
    } else if (strcmp(a, "--durability") == 0) {
      const char *v = value_of(argc, argv, &i);
      if (strcmp(v, "volatile") == 0) o->durability = DDS_DURABILITY_VOLATILE;
      else if (strcmp(v, "transient_local") == 0) o->durability = DDS_DURABILITY_TRANSIENT_LOCAL;
      else usage_error(a, "must be volatile or transient_local");
      have_dur = true;
    } else if (strcmp(a, "--history") == 0) {
      parse_history(value_of(argc, argv, &i), o);
      have_hist = true;
    } else if (strcmp(a, "--deadline-ms") == 0) {
      o->deadline_ms = parse_int(a, value_of(argc, argv, &i), 1, 86400000);
    } else if (strcmp(a, "--lifespan-ms") == 0) {
      o->lifespan_ms = parse_int(a, value_of(argc, argv, &i), 1, 86400000);
    } else if (strcmp(a, "--liveliness") == 0) {
      parse_liveliness(value_of(argc, argv, &i), o);
    } else if (strcmp(a, "--max-blocking-ms") == 0) {
      o->max_blocking_ms = parse_int(a, value_of(argc, argv, &i), 0, 86400000);
    } else if (strcmp(a, "--domain") == 0) {
      /* Cyclone's default port mapping runs out of 16-bit ports above domain 232. */
      o->domain = (uint32_t)parse_int(a, value_of(argc, argv, &i), 0, 232);
    } else if (strcmp(a, "--duration-ms") == 0) {
      o->duration_ms = parse_int(a, value_of(argc, argv, &i), 1, INT32_MAX);
    } else if (strcmp(a, "--parent-pid") == 0) {
      o->parent_pid = (long)parse_int(a, value_of(argc, argv, &i), 1, INT32_MAX);
    } else if (strcmp(a, "--rate-hz") == 0 && o->role == ROLE_PUB) {
      o->rate_hz = parse_positive(a, value_of(argc, argv, &i));
    } else if (strcmp(a, "--size") == 0 && o->role == ROLE_PUB) {
      o->size = (uint32_t)parse_int(a, value_of(argc, argv, &i), 0, 16 * 1024 * 1024);
    } else if (strcmp(a, "--count") == 0 && o->role == ROLE_PUB) {
      o->count = parse_int(a, value_of(argc, argv, &i), 1, INT32_MAX);
    } else if (strcmp(a, "--start-after-match") == 0 && o->role == ROLE_PUB) {
      o->start_after_match = true;
    } else {
      usage_error(a, o->role == ROLE_SUB ? "is not a flag of ddsprobe sub" : "is not a flag of ddsprobe pub");
    }
  }
  if (!o->topic) usage_error("--topic", "is required");
  if (!have_rel) usage_error("--reliability", "is required");
  if (!have_dur) usage_error("--durability", "is required");
  if (!have_hist) usage_error("--history", "is required");
}

static const char *policy_name(uint32_t id) {
  switch ((dds_qos_policy_id_t)id) {
    case DDS_USERDATA_QOS_POLICY_ID: return "USERDATA";
    case DDS_DURABILITY_QOS_POLICY_ID: return "DURABILITY";
    case DDS_PRESENTATION_QOS_POLICY_ID: return "PRESENTATION";
    case DDS_DEADLINE_QOS_POLICY_ID: return "DEADLINE";
    case DDS_LATENCYBUDGET_QOS_POLICY_ID: return "LATENCYBUDGET";
    case DDS_OWNERSHIP_QOS_POLICY_ID: return "OWNERSHIP";
    case DDS_OWNERSHIPSTRENGTH_QOS_POLICY_ID: return "OWNERSHIPSTRENGTH";
    case DDS_LIVELINESS_QOS_POLICY_ID: return "LIVELINESS";
    case DDS_TIMEBASEDFILTER_QOS_POLICY_ID: return "TIMEBASEDFILTER";
    case DDS_PARTITION_QOS_POLICY_ID: return "PARTITION";
    case DDS_RELIABILITY_QOS_POLICY_ID: return "RELIABILITY";
    case DDS_DESTINATIONORDER_QOS_POLICY_ID: return "DESTINATIONORDER";
    case DDS_HISTORY_QOS_POLICY_ID: return "HISTORY";
    case DDS_RESOURCELIMITS_QOS_POLICY_ID: return "RESOURCELIMITS";
    case DDS_LIFESPAN_QOS_POLICY_ID: return "LIFESPAN";
    case DDS_DURABILITYSERVICE_QOS_POLICY_ID: return "DURABILITYSERVICE";
    case DDS_TYPE_CONSISTENCY_ENFORCEMENT_QOS_POLICY_ID: return "TYPE_CONSISTENCY_ENFORCEMENT";
    case DDS_DATA_REPRESENTATION_QOS_POLICY_ID: return "DATA_REPRESENTATION";
    default: return "UNKNOWN";
  }
}

static dds_qos_t *make_qos(const struct options *o) {
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, o->reliability, DDS_MSECS(o->max_blocking_ms));
  dds_qset_durability(q, o->durability);
  dds_qset_history(q, o->history, o->depth);
  /* Cyclone keeps a transient_local writer's history for late joiners by the durability-service
   * history, whose default is keep_last 1; ROS 2 means "the last depth samples", as rmw_cyclonedds
   * sets it, so the probe mirrors the history here. */
  if (o->durability == DDS_DURABILITY_TRANSIENT_LOCAL)
    dds_qset_durability_service(q, 0, o->history, o->depth, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED);
  if (o->deadline_ms >= 0) dds_qset_deadline(q, DDS_MSECS(o->deadline_ms));
  /* Lifespan is a writer policy; readers ignore it, so it is set on the writer only. */
  if (o->lifespan_ms >= 0 && o->role == ROLE_PUB) dds_qset_lifespan(q, DDS_MSECS(o->lifespan_ms));
  dds_qset_liveliness(q, o->liveliness, o->lease_ms >= 0 ? DDS_MSECS(o->lease_ms) : DDS_INFINITY);
  return q;
}

/* Counters already reported, so each status change prints once. */
struct seen {
  uint32_t matched_total;
  int32_t matched_current;
  uint32_t incompatible;
  uint32_t deadline;
  uint32_t alive, not_alive;
  uint32_t liveliness_lost;
  uint32_t lost, rejected;
};

static void poll_status(dds_entity_t ep, enum role role, struct seen *s) {
  int64_t t = now_ns();
  if (role == ROLE_SUB) {
    dds_subscription_matched_status_t m;
    if (dds_get_subscription_matched_status(ep, &m) == 0 &&
        (m.total_count != s->matched_total || (int32_t)m.current_count != s->matched_current)) {
      s->matched_total = m.total_count;
      s->matched_current = (int32_t)m.current_count;
      emit("{\"kind\":\"matched\",\"t\":%" PRId64 ",\"current\":%" PRIu32 ",\"total\":%" PRIu32 "}", t, m.current_count, m.total_count);
    }
    dds_requested_incompatible_qos_status_t iq;
    if (dds_get_requested_incompatible_qos_status(ep, &iq) == 0 && iq.total_count != s->incompatible) {
      s->incompatible = iq.total_count;
      emit("{\"kind\":\"incompatible\",\"t\":%" PRId64 ",\"side\":\"requested\",\"policy\":\"%s\",\"total\":%" PRIu32 "}", t, policy_name(iq.last_policy_id), iq.total_count);
    }
    dds_requested_deadline_missed_status_t dm;
    if (dds_get_requested_deadline_missed_status(ep, &dm) == 0 && dm.total_count != s->deadline) {
      s->deadline = dm.total_count;
      emit("{\"kind\":\"deadline_missed\",\"t\":%" PRId64 ",\"total\":%" PRIu32 "}", t, dm.total_count);
    }
    dds_liveliness_changed_status_t lc;
    if (dds_get_liveliness_changed_status(ep, &lc) == 0 && (lc.alive_count != s->alive || lc.not_alive_count != s->not_alive)) {
      s->alive = lc.alive_count;
      s->not_alive = lc.not_alive_count;
      emit("{\"kind\":\"liveliness\",\"t\":%" PRId64 ",\"alive\":%" PRIu32 ",\"not_alive\":%" PRIu32 "}", t, lc.alive_count, lc.not_alive_count);
    }
    dds_sample_lost_status_t sl;
    if (dds_get_sample_lost_status(ep, &sl) == 0 && sl.total_count != s->lost) {
      s->lost = sl.total_count;
      emit("{\"kind\":\"sample_lost\",\"t\":%" PRId64 ",\"total\":%" PRIu32 "}", t, sl.total_count);
    }
    dds_sample_rejected_status_t sr;
    if (dds_get_sample_rejected_status(ep, &sr) == 0 && sr.total_count != s->rejected) {
      s->rejected = sr.total_count;
      emit("{\"kind\":\"sample_rejected\",\"t\":%" PRId64 ",\"total\":%" PRIu32 "}", t, sr.total_count);
    }
  } else {
    dds_publication_matched_status_t m;
    if (dds_get_publication_matched_status(ep, &m) == 0 &&
        (m.total_count != s->matched_total || (int32_t)m.current_count != s->matched_current)) {
      s->matched_total = m.total_count;
      s->matched_current = (int32_t)m.current_count;
      emit("{\"kind\":\"matched\",\"t\":%" PRId64 ",\"current\":%" PRIu32 ",\"total\":%" PRIu32 "}", t, m.current_count, m.total_count);
    }
    dds_offered_incompatible_qos_status_t iq;
    if (dds_get_offered_incompatible_qos_status(ep, &iq) == 0 && iq.total_count != s->incompatible) {
      s->incompatible = iq.total_count;
      emit("{\"kind\":\"incompatible\",\"t\":%" PRId64 ",\"side\":\"offered\",\"policy\":\"%s\",\"total\":%" PRIu32 "}", t, policy_name(iq.last_policy_id), iq.total_count);
    }
    dds_offered_deadline_missed_status_t dm;
    if (dds_get_offered_deadline_missed_status(ep, &dm) == 0 && dm.total_count != s->deadline) {
      s->deadline = dm.total_count;
      emit("{\"kind\":\"deadline_missed\",\"t\":%" PRId64 ",\"total\":%" PRIu32 "}", t, dm.total_count);
    }
    dds_liveliness_lost_status_t ll;
    if (dds_get_liveliness_lost_status(ep, &ll) == 0 && ll.total_count != s->liveliness_lost) {
      s->liveliness_lost = ll.total_count;
      emit("{\"kind\":\"liveliness_lost\",\"t\":%" PRId64 ",\"total\":%" PRIu32 "}", t, ll.total_count);
    }
  }
}

#define TAKE_BATCH 64

static uint64_t take_all(dds_entity_t reader) {
  void *samples[TAKE_BATCH];
  dds_sample_info_t infos[TAKE_BATCH];
  uint64_t n_valid = 0;
  for (;;) {
    memset(samples, 0, sizeof samples); /* NULL pointers: let Cyclone loan its buffers */
    dds_return_t n = dds_take(reader, samples, infos, TAKE_BATCH, TAKE_BATCH);
    if (n < 0) dds_error("dds_take", n);
    if (n == 0) return n_valid;
    int64_t recv = now_ns();
    for (int32_t i = 0; i < n; i++) {
      if (!infos[i].valid_data) continue; /* instance state changes carry no payload */
      const QosProbe *s = samples[i];
      n_valid++;
      emit("{\"kind\":\"sample\",\"seq\":%" PRIu32 ",\"sent\":%" PRId64 ",\"recv\":%" PRId64 ",\"size\":%" PRIu32 "}", s->seq, s->sent_ns, recv, s->payload._length);
    }
    dds_return_loan(reader, samples, n);
    if (n < TAKE_BATCH) return n_valid;
  }
}

static void print_writer_stats(struct dds_statistics *stats) {
  if (!stats || dds_refresh_statistics(stats) != 0 || stats->count == 0) {
    fputs(",\"stats\":null", stdout);
    return;
  }
  fputs(",\"stats\":{", stdout);
  for (size_t i = 0; i < stats->count; i++) {
    const struct dds_stat_keyvalue *kv = &stats->kv[i];
    uint64_t v = kv->kind == DDS_STAT_KIND_UINT32 ? kv->u.u32 : kv->kind == DDS_STAT_KIND_UINT64 ? kv->u.u64 : kv->u.lengthtime;
    char name[64];
    json_safe_copy(name, sizeof name, kv->name);
    printf("%s\"%s\":%" PRIu64, i ? "," : "", name, v);
  }
  fputs("}", stdout);
}

static bool parent_gone(long parent_pid) {
  return parent_pid != 0 && (long)getppid() != parent_pid;
}

int main(int argc, char **argv) {
  struct options o;
  parse_args(argc, argv, &o);

  /* Never outlive the harness: the kernel kills us when the parent dies, and the explicit check
   * covers a parent that died before prctl ran (we would have been re-parented already). */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent_gone(o.parent_pid)) return 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  dds_entity_t pp = dds_create_participant(o.domain, NULL, NULL);
  if (pp < 0) dds_error("dds_create_participant (check CYCLONEDDS_URI)", pp);
  dds_entity_t topic = dds_create_topic(pp, &QosProbe_desc, o.topic, NULL, NULL);
  if (topic < 0) dds_error("dds_create_topic", topic);
  dds_qos_t *qos = make_qos(&o);
  dds_entity_t ep = o.role == ROLE_PUB ? dds_create_writer(pp, topic, qos, NULL) : dds_create_reader(pp, topic, qos, NULL);
  dds_delete_qos(qos);
  if (ep < 0) dds_error(o.role == ROLE_PUB ? "dds_create_writer" : "dds_create_reader", ep);

  uint32_t mask = o.role == ROLE_PUB
    ? DDS_PUBLICATION_MATCHED_STATUS | DDS_OFFERED_INCOMPATIBLE_QOS_STATUS | DDS_OFFERED_DEADLINE_MISSED_STATUS | DDS_LIVELINESS_LOST_STATUS
    : DDS_DATA_AVAILABLE_STATUS | DDS_SUBSCRIPTION_MATCHED_STATUS | DDS_REQUESTED_INCOMPATIBLE_QOS_STATUS |
      DDS_REQUESTED_DEADLINE_MISSED_STATUS | DDS_LIVELINESS_CHANGED_STATUS | DDS_SAMPLE_LOST_STATUS | DDS_SAMPLE_REJECTED_STATUS;
  dds_return_t rc = dds_set_status_mask(ep, mask);
  if (rc != 0) dds_error("dds_set_status_mask", rc);
  dds_entity_t ws = dds_create_waitset(pp);
  if (ws < 0) dds_error("dds_create_waitset", ws);
  if ((rc = dds_waitset_attach(ws, ep, 0)) != 0) dds_error("dds_waitset_attach", rc);
  struct dds_statistics *stats = o.role == ROLE_PUB ? dds_create_statistics(ep) : NULL;

  QosProbe sample;
  memset(&sample, 0, sizeof sample);
  if (o.size > 0) {
    sample.payload._buffer = malloc(o.size);
    if (!sample.payload._buffer) dds_error("malloc payload", DDS_RETCODE_OUT_OF_RESOURCES);
  }
  sample.payload._length = sample.payload._maximum = o.size;
  sample.payload._release = false;

  int64_t start = now_ns();
  int64_t end = o.duration_ms >= 0 ? start + o.duration_ms * 1000000 : INT64_MAX;
  int64_t period = (int64_t)(1e9 / o.rate_hz);
  int64_t next_write = start;
  uint64_t published = 0, write_errors = 0, write_timeouts = 0, received = 0;
  int64_t longest_write = 0;
  uint32_t seq = 0;
  struct seen seen;
  memset(&seen, 0, sizeof seen);
  seen.matched_current = -1; /* so the first poll reports the (zero) count as the baseline */

  emit("{\"kind\":\"ready\",\"t\":%" PRId64 ",\"role\":\"%s\",\"topic\":\"%s\",\"domain\":%" PRIu32 ",\"pid\":%ld}",
       start, o.role == ROLE_PUB ? "pub" : "sub", o.topic, o.domain, (long)getpid());

  while (!stop_requested) {
    int64_t t = now_ns();
    if (t >= end || parent_gone(o.parent_pid)) break;
    /* Wake at least every 50 ms so a stop request, the end and the parent check are prompt. */
    int64_t wait = 50000000;
    if (o.role == ROLE_PUB && next_write - t < wait) wait = next_write - t;
    if (end - t < wait) wait = end - t;
    if (wait > 0) (void)dds_waitset_wait(ws, NULL, 0, wait);
    poll_status(ep, o.role, &seen);
    if (o.role == ROLE_SUB) {
      received += take_all(ep);
      continue;
    }
    if (o.start_after_match && seen.matched_current <= 0) {
      next_write = now_ns(); /* the schedule starts at the match, not at process start */
      continue;
    }
    /* With --count the writer stays alive after its last sample: a transient_local writer must
     * outlive its samples for a late joiner to get them. */
    if (o.count >= 0 && published >= (uint64_t)o.count) {
      next_write = INT64_MAX;
      continue;
    }
    t = now_ns();
    if (t < next_write || stop_requested) continue;
    sample.seq = seq;
    if (o.size > 0) memset(sample.payload._buffer, (int)(seq & 0xff), o.size);
    sample.sent_ns = now_ns();
    rc = dds_write(ep, &sample);
    int64_t blocked = now_ns() - sample.sent_ns;
    if (blocked > longest_write) longest_write = blocked;
    if (rc == 0) {
      published++;
      seq++;
      if (o.count >= 0 && published == (uint64_t)o.count)
        emit("{\"kind\":\"idle\",\"t\":%" PRId64 ",\"published\":%" PRIu64 "}", now_ns(), published);
    } else if (rc == DDS_RETCODE_TIMEOUT) {
      write_timeouts++; /* reliable keep_all behind a slow reader: the sample was not accepted */
    } else {
      write_errors++;
    }
    /* Fixed schedule, but no catch-up burst after a blocked write: at most one write is owed. */
    next_write += period;
    if (next_write < t) next_write = t;
  }

  poll_status(ep, o.role, &seen);
  int64_t t_end = now_ns();
  if (o.role == ROLE_SUB) {
    received += take_all(ep);
    emit("{\"kind\":\"summary\",\"t\":%" PRId64 ",\"role\":\"sub\",\"received\":%" PRIu64 ",\"lost\":%" PRIu32 ",\"rejected\":%" PRIu32
         ",\"deadline_missed\":%" PRIu32 ",\"incompatible\":%" PRIu32 "}",
         t_end, received, seen.lost, seen.rejected, seen.deadline, seen.incompatible);
  } else {
    printf("{\"kind\":\"summary\",\"t\":%" PRId64 ",\"role\":\"pub\",\"published\":%" PRIu64 ",\"write_errors\":%" PRIu64
           ",\"write_timeouts\":%" PRIu64 ",\"longest_write_ns\":%" PRId64 ",\"deadline_missed\":%" PRIu32 ",\"incompatible\":%" PRIu32,
           t_end, published, write_errors, write_timeouts, longest_write, seen.deadline, seen.incompatible);
    print_writer_stats(stats);
    fputs("}\n", stdout);
    fflush(stdout);
  }
  if (stats) dds_delete_statistics(stats);
  free(sample.payload._buffer);
  dds_delete(pp);
  return 0;
}
