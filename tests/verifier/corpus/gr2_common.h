/* Shared by the gr2_*.bpf.c corpus programs: resilient spin locks (bpf_res_spin_lock, Linux 6.14+)
 * guarding lists, and kptrs to the program's own structs, on top of gr_common.h. */
#include "gr_common.h"

/* the kernel's struct (4 bytes); uapi headers do not have it */
struct bpf_res_spin_lock { __u32 val; };

extern int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym;
extern void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym;

#define kptr __attribute__((btf_type_tag("kptr")))

/* a list of jobs guarded by a resilient lock */
struct rjobq {
	struct bpf_res_spin_lock lock;
	struct bpf_list_head jobs holds(job, link);
};

/* in a program over ARRAY_OF(rjobq, rqueues): q, queue i (or return 0); struct job is kept in
 * the program's BTF for the list head's contains: tag */
#define RQUEUE(q, i)						\
	struct rjobq *q = elem(&rqueues, i);			\
								\
	keep_type(struct job);					\
	if (!q)							\
		return 0

/* an allocated batch keeping a kptr to an allocated job */
struct kbatch {
	long id;
	struct job kptr *head;
};

/* b, a new batch, and j, a new job (or return 0, nothing left allocated) */
#define NEW_BATCH_AND_JOB(b, j)					\
	struct kbatch *b = new_obj(struct kbatch);		\
	struct job *j = b ? new_obj(struct job) : NULL;		\
								\
	if (!j) {						\
		if (b)						\
			drop_obj(b);				\
		return 0;					\
	}

/* a map value keeping a kptr to a job */
struct jstash {
	struct job kptr *saved;
};

/* in a program over ARRAY_OF(jstash, jstashes): j, the job stashed in element 0 (or return 0) */
#define STASHED_JOB(j)						\
	struct jstash *s_ = elem(&jstashes, 0);			\
	struct job *j;						\
								\
	keep_type(struct job);					\
	if (!s_)						\
		return 0;					\
	j = s_->saved;						\
	if (!j)							\
		return 0
