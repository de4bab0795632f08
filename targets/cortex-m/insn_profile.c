/* A QEMU TCG plugin that counts, per instruction address, how often each instruction ran between
 * the last two reads of a marker address (the timer register cycles.hpp reads around the measured
 * code), how often it was left by a jump (a taken branch: the next instruction run is not the
 * next one in memory) and how often it was entered by one. m4_cycles.py turns these counts and
 * the ELF's disassembly into a Cortex-M4 cycle estimate.
 *
 *   qemu-system-arm ... -plugin insn_profile.so,marker=0x40002004,out=profile.txt
 *
 * The window is the last complete stretch between two consecutive reads of `marker`: the
 * instructions after one read up to and including the next, i.e. the ones the timer counts.
 * Output: a line "window N" (N = instructions in the window; 0 if the marker was read fewer
 * than twice), then one line "address count taken entered" (hexadecimal address, decimal counts)
 * per instruction that ran in the window.
 *
 * Debian ships no plugin header, so the few declarations used are written out below: QEMU 7.2's
 * plugin API version 1 (include/qemu/qemu-plugin.h), which this QEMU exports.
 * Build: cc -shared -fPIC -O2 -o insn_profile.so insn_profile.c
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU plugin API, version 1 (the subset used) ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
typedef uint32_t qemu_plugin_meminfo_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
                                      void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

/* ---- per-address records: allocated once (their addresses are callback data), found through
 * an open-addressing hash table at translation time ---- */
struct counts {
  uint64_t count, taken, entered;
};
struct record {
  uint32_t address, size;
  struct counts now;   /* since the last read of the marker */
  struct counts saved; /* between the last two reads */
};

static struct record **table;
static size_t capacity; /* a power of two */
static size_t used;
static struct record *last; /* the instruction run before the current one */
static uint64_t reads; /* of the marker, so far */
static uint64_t marker = 0x40002004u;
static uint64_t window, saved_window;
static char out_path[4096];

static size_t slot(uint32_t address) {
  size_t j = (address * 2654435761u) & (capacity - 1);
  while (table[j] && table[j]->address != address) j = (j + 1) & (capacity - 1);
  return j;
}

static struct record *record_for(uint32_t address, uint32_t size) {
  if (2 * (used + 1) > capacity) {
    size_t old_capacity = capacity;
    struct record **old = table;
    capacity = capacity ? 2 * capacity : 1u << 14;
    table = calloc(capacity, sizeof *table);
    if (!table) abort();
    for (size_t i = 0; i < old_capacity; ++i)
      if (old[i]) table[slot(old[i]->address)] = old[i];
    free(old);
  }
  size_t j = slot(address);
  if (!table[j]) {
    table[j] = calloc(1, sizeof **table);
    if (!table[j]) abort();
    table[j]->address = address;
    table[j]->size = size;
    ++used;
  }
  return table[j];
}

static void on_insn(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  struct record *r = userdata;
  if (last && r->address != last->address + last->size) {
    ++last->now.taken;
    ++r->now.entered;
  }
  ++r->now.count;
  ++window;
  last = r;
}

static void on_memory(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *userdata) {
  (void)vcpu, (void)userdata;
  if (vaddr != marker || qemu_plugin_mem_is_store(info)) return;
  /* A window closes (and the next opens): keep its counts, start afresh. */
  if (reads++ > 0) {
    for (size_t i = 0; i < capacity; ++i)
      if (table[i]) table[i]->saved = table[i]->now;
    saved_window = window;
  }
  for (size_t i = 0; i < capacity; ++i)
    if (table[i]) table[i]->now = (struct counts){0, 0, 0};
  window = 0;
}

static void on_translation(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    struct record *r = record_for((uint32_t)qemu_plugin_insn_vaddr(insn), (uint32_t)qemu_plugin_insn_size(insn));
    qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, r);
    /* Every access, loads told apart in on_memory: registered with QEMU_PLUGIN_MEM_R, this
     * QEMU 7.2 called the callback for the stores and not for the loads (seen here). */
    qemu_plugin_register_vcpu_mem_cb(insn, on_memory, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
  }
}

static void write_profile(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
  FILE *f = fopen(out_path, "w");
  if (!f) {
    qemu_plugin_outs("insn_profile: cannot write the output file\n");
    return;
  }
  fprintf(f, "window %" PRIu64 "\n", saved_window);
  for (size_t i = 0; i < capacity; ++i)
    if (table[i] && table[i]->saved.count)
      fprintf(f, "%" PRIx32 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", table[i]->address, table[i]->saved.count,
              table[i]->saved.taken, table[i]->saved.entered);
  fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  (void)info;
  snprintf(out_path, sizeof out_path, "insn_profile.txt");
  for (int i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "marker=", 7) == 0) marker = strtoull(argv[i] + 7, NULL, 0);
    else if (strncmp(argv[i], "out=", 4) == 0) snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
    else {
      fprintf(stderr, "insn_profile: unknown argument %s (marker=ADDRESS, out=FILE)\n", argv[i]);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translation);
  qemu_plugin_register_atexit_cb(id, write_profile, NULL);
  return 0;
}
