//! Context variables, through the public API: copied into spawned tasks at
//! spawn, a child's changes unseen by its parent, shared by the futures of
//! one task, fresh for each block_on, and per thread.

use std::time::Duration;

use runtime::{block_on, gather, spawn, spawn_blocking, yield_now};

runtime::context_var! {
    static REQUEST_ID: u64 = 0;
    static USER: String = String::from("anonymous");
}

#[test]
fn a_child_starts_with_a_copy_and_its_changes_stay_its_own() {
    block_on(async {
        REQUEST_ID.set(7);
        let child = spawn(async {
            let seen = REQUEST_ID.get();
            REQUEST_ID.set(8);
            let grandchild = spawn(async { REQUEST_ID.get() });
            (seen, REQUEST_ID.get(), grandchild.await.unwrap())
        });
        assert_eq!(child.await.unwrap(), (7, 8, 8));
        assert_eq!(
            REQUEST_ID.get(),
            7,
            "the parent does not see the child's set"
        );
    });
}

#[test]
fn values_are_copied_at_spawn_not_at_the_first_poll() {
    block_on(async {
        USER.set("alice".into());
        let child = spawn(async { USER.get() });
        USER.set("bob".into()); // after the spawn: the child keeps alice
        let later = spawn(async { USER.get() });
        assert_eq!(child.await.unwrap(), "alice");
        assert_eq!(later.await.unwrap(), "bob");
    });
}

#[test]
fn the_futures_of_one_task_share_its_values() {
    block_on(async {
        let task = spawn(async {
            REQUEST_ID.set(42);
            gather((0..3).map(|_| async {
                yield_now().await;
                REQUEST_ID.get()
            }))
            .await
        });
        assert_eq!(task.await.unwrap(), [42, 42, 42]);
    });
}

#[test]
fn each_block_on_starts_from_the_defaults() {
    block_on(async { REQUEST_ID.set(5) });
    block_on(async {
        assert_eq!(REQUEST_ID.get(), 0);
        assert_eq!(USER.get(), "anonymous");
    });
}

#[test]
fn outside_a_loop_get_gives_the_default() {
    assert_eq!(REQUEST_ID.get(), 0);
}

#[test]
#[should_panic(expected = "outside a running event loop")]
fn set_outside_a_loop_panics_and_says_where_to_set_it() {
    REQUEST_ID.set(1);
}

#[test]
fn blocking_jobs_run_on_other_threads_and_see_the_defaults() {
    block_on(async {
        REQUEST_ID.set(9);
        let seen = spawn_blocking(|| REQUEST_ID.get()).await.unwrap();
        assert_eq!(seen, 0);
    });
}

#[test]
fn many_tasks_each_keep_their_own_values() {
    block_on(async {
        REQUEST_ID.set(1);
        for round in 0..3 {
            let tasks: Vec<_> = (0..1000)
                .map(|i| {
                    spawn(async move {
                        REQUEST_ID.set(i);
                        runtime::time::sleep(Duration::from_millis(1)).await;
                        REQUEST_ID.get()
                    })
                })
                .collect();
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), i as u64, "round {round}");
            }
        }
        assert_eq!(REQUEST_ID.get(), 1);
    });
}
