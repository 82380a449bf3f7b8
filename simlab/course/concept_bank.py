"""The course's concept checks: short multiple-choice questions with diagnostic distractors.

Every wrong option is a known misconception, named in its feedback; the right option's feedback
says why it is right. Facts follow the project's fact sheet (LAMBDA_FACTS.md) and the lessons'
text. :mod:`simlab.course.concept_checks` shows them as widgets and renders the instructor's list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Option", "Question", "BANK", "LESSONS"]

#: The lessons, in course order: id prefix -> notebook stem.
LESSONS: dict[str, str] = {
    "00": "00_start_here",
    "01": "01_cold_and_warm_starts",
    "02": "02_concurrency_and_throttling",
    "03": "03_memory_cpu_and_timeouts",
    "04": "04_billing_granularity",
    "05": "05_event_sources",
    "05b": "05b_event_payloads",
    "06": "06_logs_and_monitoring",
    "07": "07_use_case_labs",
    "08": "08_is_the_simulator_right",
    "09": "09_capstone_keep_alive",
}


@dataclass(frozen=True)
class Option:
    """One option of a question.

    Attributes
    ----------
    key
        ``"a"``, ``"b"``, ...
    text
        What the student reads.
    misconception
        For a wrong option, the misconception choosing it reveals (a short sentence); ``None`` for
        the right option.
    why
        The explanation shown when the option is chosen.
    """

    key: str
    text: str
    misconception: str | None = field(repr=False)
    why: str = field(repr=False)


@dataclass(frozen=True)
class Question:
    """One concept check.

    Attributes
    ----------
    id
        ``"<lesson>.<n>"``, e.g. ``"01.2"``; the notebook variable is ``concept_01_2``.
    concept
        The concept it checks (a few words).
    prompt
        The question.
    options
        The options, keys ``a``, ``b``, ... in order; exactly one has no misconception.
    """

    id: str
    concept: str
    prompt: str
    options: tuple[Option, ...]

    @property
    def lesson(self) -> str:
        """The lesson's id prefix (``"01"``, ``"05b"``)."""
        return self.id.split(".")[0]

    @property
    def variable(self) -> str:
        """The notebook variable that records the student's answer: ``concept_01_2``."""
        return "concept_" + self.id.replace(".", "_")

    @property
    def keys(self) -> tuple[str, ...]:
        """The option keys, in order."""
        return tuple(o.key for o in self.options)


def _q(qid: str, concept: str, prompt: str, *options: tuple[str, str | None, str]) -> Question:
    """Build a question; options are ``(text, misconception or None, why)``, keyed a, b, c, d.

    The right option (misconception ``None``) swaps places with the option at a slot that
    depends on the id, so that the right letters are spread over a to d and no letter is a safe
    guess.
    """
    listed = list(options)
    right = [i for i, option in enumerate(listed) if option[1] is None]
    if len(right) != 1:
        raise ValueError(f"question {qid!r} has {len(right)} right options; it needs exactly 1")
    slot = sum(map(ord, qid)) * 7 % len(listed)
    listed[right[0]], listed[slot] = listed[slot], listed[right[0]]
    return Question(qid, concept, prompt, tuple(
        Option("abcdefgh"[i], text, mis, why) for i, (text, mis, why) in enumerate(listed)))


RIGHT = None  # marks the right option in the table below, for readability

_QUESTIONS: tuple[Question, ...] = (
    # -- lesson 0 ------------------------------------------------------------------------------
    _q("00.1", "no state kept between requests",
       "A function keeps a counter in a global variable and adds 1 to it on every request. It is "
       "busy all evening, then gets no request for the whole night. What does the first request "
       "of the morning find in the counter?",
       ("The number of requests since the function was deployed.",
        "An environment lives as long as the function is deployed, like a server.",
        "Idle environments are reclaimed after minutes (about 6 today) and even busy ones are "
        "recycled every few hours; the morning's request gets a new environment, with fresh "
        "globals. Keep counts in a database, S3 or a queue."),
       ("The evening's count: Lambda saves an environment's memory when it reclaims it and "
        "restores it in the next one.",
        "The platform saves and restores your in-memory state.",
        "A reclaimed environment is gone with its memory. Nothing carries globals over to a new "
        "environment: state lives in S3, databases or queues."),
       ("0 plus this request: the overnight pause outlasted the keep-alive, so a new "
        "environment starts with fresh globals.",
        RIGHT,
        "Globals live in one environment's memory. After a pause longer than the keep-alive the "
        "environment was reclaimed; the new one runs the initialisation code again. In-memory "
        "state is an optimisation (a cache), never storage."),
       ("The total of all environments: every environment of a function shares its globals.",
        "Concurrent requests run in one shared process.",
        "Each environment is a separate sandbox with its own memory, serving one request at a "
        "time; two environments never see each other's globals.")),
    _q("00.2", "when a request is cold",
       "A function served a request one minute ago, so one idle environment is ready. Two uploads "
       "now arrive 50 ms apart, and each runs about 0.1 s. How many of the two are cold starts?",
       ("None: the idle environment serves both.",
        "An environment serves several requests at once.",
        "An environment serves one request at a time. When the second upload arrives, the idle "
        "environment is busy with the first, so the platform must create another."),
       ("One, the first: an environment idle for a minute must be warmed up again.",
        "Environments cool down within a minute.",
        "An idle environment stays ready for the whole keep-alive (about 6 minutes today), and a "
        "request that finds it ready starts warm, with no INIT."),
       ("One, the second: the first takes the idle environment, the second finds it busy and "
        "waits for a new one.",
        RIGHT,
        "A request is cold when no idle environment is ready: the first finds one, the second "
        "arrives while it is busy. This is how the platform scales, one environment per request "
        "in flight."),
       ("Both: requests that arrive in a burst are always cold.",
        "Cold starts are caused by bursts as such.",
        "A request is cold only when no idle environment is ready for it. The first upload finds "
        "the idle environment and starts warm.")),
    _q("00.3", "what a request is billed",
       "Today, what is the Billed Duration of a cold request of a ZIP function on a managed "
       "runtime (Python, say)?",
       ("Its run time, rounded up to the next 100 ms; the INIT is free.",
        "The billing rules of 2020 still apply.",
        "Rounding to 100 ms ended with the December 2020 billing cycle (1 ms since), and the "
        "INIT of such functions is billed since 1 August 2025."),
       ("Its run time rounded up to the next 1 ms; the INIT is free.",
        "The INIT of a cold start is never billed.",
        "That was the rule for ZIP functions on managed runtimes until 31 July 2025. Since "
        "1 August 2025 the INIT is billed like the run, at the same price per GB-s."),
       ("Its INIT plus its run time, rounded up to the next 1 ms.",
        RIGHT,
        "Since 1 August 2025 the INIT is billed like the invocation, and the sum is rounded up "
        "to the next millisecond (the REPORT line shows Init Duration separately)."),
       ("Its run time, plus the minutes its environment is then kept idle for the next request.",
        "You pay for the keep-alive.",
        "An idle, frozen environment is not billed: the customer pays per request and per "
        "millisecond of work; the provider carries the idle memory.")),
    # -- lesson 1 ------------------------------------------------------------------------------
    _q("01.1", "what a cold start waits for",
       "Where does the extra latency of a cold start come from?",
       ("The handler runs slower the first time, because the CPU and its caches are cold.",
        "'Cold' is about the hardware.",
        "'Cold' means there was no environment: the time goes into creating one (INIT), before "
        "the handler starts. The handler itself runs as fast as on a warm start."),
       ("From INIT: starting a fresh sandbox, the language runtime, and the code outside the "
        "handler (imports, connections).",
        RIGHT,
        "That is the INIT phase; the request waits for all of it. About 0.2 s for a small "
        "Python function, seconds with heavy dependencies."),
       ("From the keep-alive timer: Lambda waits for it to run out before starting a request.",
        "The keep-alive delays requests.",
        "The keep-alive only decides how long an idle environment is kept; it never delays a "
        "request. A request that finds an idle environment starts at once."),
       ("From queueing behind the other requests of the function.",
        "Requests queue for an environment.",
        "A synchronous request never waits for a busy environment: if none is idle, a new one "
        "is created for it (or the request is throttled at a limit, lesson 2).")),
    _q("01.2", "who pays for keep-alive",
       "In the burst run, the platform held far more environments than were busy. Who pays for "
       "the memory of the idle ones?",
       ("The customer: idle environments are billed per GB-s like running ones.",
        "Keep-alive is billed.",
        "A frozen, idle environment is not billed. The bill counts requests and the billed "
        "duration of work."),
       ("Nobody: a frozen environment uses no memory.",
        "Frozen means free of cost.",
        "A frozen environment still holds its memory on the host, so another environment cannot "
        "use it. That memory is a real cost."),
       ("The provider: the customer pays per request and per millisecond of work, and the idle "
        "memory is the provider's cost of warm starts.",
        RIGHT,
        "Keep-alive is the provider's side of the trade-off: it holds memory nobody bills, to "
        "give warm starts (lesson 4 adds it up)."),
       ("The customer, through an hourly fee per environment.",
        "Lambda charges per environment, like a server.",
        "On-demand functions have no per-environment fee. Only provisioned concurrency charges "
        "for configured environments, whether busy or not.")),
    _q("01.3", "P(cold) = exp(-lambda T)",
       "A function is called at random (Poisson), on average once every 6 minutes, and idle "
       "environments are kept 6 minutes: about 37 % of its requests are cold. The keep-alive is "
       "doubled to 12 minutes. The cold-start fraction...",
       ("halves, to about 18 %.",
        "The cold-start fraction falls in proportion to the keep-alive.",
        "P(cold) = e^(-lambda T) is exponential in T: doubling T squares the fraction."),
       ("falls to about 0: with calls every 6 minutes, no gap is longer than 12.",
        "The mean gap is the longest gap.",
        "Poisson gaps are exponential: about 1 gap in 7 is longer than twice the mean."),
       ("does not change: cold starts depend only on the arrival rate.",
        "Keep-alive does not matter for cold starts.",
        "A request is cold exactly when the gap before it is longer than the keep-alive; a "
        "longer keep-alive covers more gaps."),
       ("falls to about 14 %: it squares, from e^-1 to e^-2.",
        RIGHT,
        "P(cold) = e^(-lambda T) with lambda T = 1, then 2: 0.37 becomes 0.14. Doubling T "
        "squares the fraction, so it falls by more than half.")),
    # -- lesson 2 ------------------------------------------------------------------------------
    _q("02.1", "Little's law",
       "An API receives 100 requests per second, each spending 0.2 s in the platform. How many "
       "environments does it keep busy on average?",
       ("100: one per request per second.",
        "Concurrency is a rate.",
        "Concurrency is requests in flight: each environment is busy 0.2 s per request, so 100 "
        "requests a second keep 100 x 0.2 = 20 busy."),
       ("500: 100 / 0.2.",
        "Dividing by the duration.",
        "Longer requests need more environments, not fewer: multiply the rate by the duration."),
       ("20: 100 x 0.2, with random peaks above that.",
        RIGHT,
        "Little's law, L = lambda W: 100 x 0.2 = 20 on average; random arrivals bunch up, so the "
        "peaks, where limits act, are higher."),
       ("1: an environment serves short requests back to back.",
        "One environment can absorb any rate of short requests.",
        "One environment serves one request at a time, 5 a second at 0.2 s each; 100 a second "
        "need about 20.")),
    _q("02.2", "reserved concurrency is a ceiling too",
       "A function's reserved concurrency is 10. 15 synchronous requests arrive at once. What "
       "happens to the 5 extra?",
       ("They wait in a queue until an environment is free.",
        "Lambda queues synchronous requests.",
        "A synchronous request over the limit is throttled at once: 429 TooManyRequestsException "
        "from the Invoke API. Only asynchronous events are queued and retried."),
       ("They run on 5 more environments, billed at a higher rate.",
        "Reserved concurrency is only a floor.",
        "Reserved concurrency is a guarantee and a maximum: the function never runs more than "
        "10 at once, and there is no higher rate for going over."),
       ("They are throttled: the function may never run more than 10 at once.",
        RIGHT,
        "Reserved concurrency is both a guarantee and a ceiling. The 5 extra get a 429 at once "
        "(a 500 behind API Gateway); the caller may retry."),
       ("They borrow capacity from the account's unreserved pool.",
        "A reserved function can borrow from the pool.",
        "A reserved function cannot exceed its reservation, even when the account is idle; "
        "that is what protects the database behind it.")),
    _q("02.3", "provisioned concurrency spills over",
       "A function has a provisioned concurrency of 10. A burst brings 14 requests in flight at "
       "once. What happens to the 4 beyond the 10 provisioned environments?",
       ("They are throttled: provisioned concurrency is the function's maximum.",
        "Provisioned concurrency is a limit.",
        "That is reserved concurrency. Provisioned environments are initialised ahead of time; "
        "requests beyond them spill over to on-demand environments."),
       ("They wait for a provisioned environment to become free.",
        "Synchronous requests queue for warm environments.",
        "Nothing waits: the extra requests go to on-demand environments at once."),
       ("They run on on-demand environments, created as usual, with cold starts if none is idle.",
        RIGHT,
        "Spillover runs on demand, at the on-demand price, and can be cold; sizing provisioned "
        "concurrency means asking how far above its mean concurrency goes."),
       ("Lambda initialises 4 more provisioned environments in advance, so they start warm.",
        "Provisioned concurrency grows by itself, instantly.",
        "Provisioned environments are the number you configure (auto scaling can change it, on a "
        "utilisation metric); a burst beyond them goes on demand.")),
    _q("02.4", "the scaling rate since November 2023",
       "Which sentence describes Lambda's scaling rate today (since late November 2023)?",
       ("A burst of up to 3,000 new environments, then 500 more per minute, shared by every "
        "function of the account.",
        "The rule before November 2023 still holds.",
        "That was the rule until November 2023 (3,000 in the largest Regions, 500 to 1,000 "
        "elsewhere)."),
       ("There is none: only the concurrency limits can throttle.",
        "Only concurrency limits throttle.",
        "New environments are created at a bounded rate; a sudden burst can be throttled below "
        "every limit."),
       ("1,000 more environments every 10 s, shared by every function of the account.",
        "Today's rate is shared by the account.",
        "Since November 2023 each function scales on its own; a busy function no longer uses "
        "up the others' scaling rate."),
       ("Each function, on its own, may add 1,000 environments every 10 s.",
        RIGHT,
        "Per function, 1,000 new environments every 10 s, refilled continuously, up to the "
        "account's concurrency limit.")),
    # -- lesson 3 ------------------------------------------------------------------------------
    _q("03.1", "memory buys CPU, up to a thread's one vCPU",
       "A single-threaded CPU-bound function (no I/O) runs 6 s at 512 MB. About how long does it "
       "run at 3,008 MB?",
       ("About 1.7 s: it speeds up until 1,769 MB (one vCPU), then no more.",
        RIGHT,
        "At 512 MB it gets 512 / 1,769 = 0.29 of a vCPU, so it needs 6 x 0.29 = 1.7 s of CPU. "
        "From 1,769 MB it has a whole vCPU, and one thread cannot use more."),
       ("About 1.0 s: 5.9 times the memory buys 5.9 times the speed.",
        "Speed grows with memory without bound.",
        "CPU grows with memory, but a single thread runs on one vCPU at most: above 1,769 MB "
        "the extra share sits idle."),
       ("6 s: memory sets only how much data fits, not the speed.",
        "Memory does not buy CPU.",
        "Lambda has no CPU setting: it gives CPU in proportion to memory, one vCPU at 1,769 "
        "MB.")),
    _q("03.2", "an out-of-memory kill",
       "An invocation needs more memory than the function is configured with. What happens?",
       ("Lambda swaps to disk, and the request runs slower.",
        "The memory setting is a soft limit.",
        "Memory is a hard ceiling: the runtime process is killed, and the REPORT line shows Max "
        "Memory Used at Memory Size."),
       ("Only that request fails; its environment stays warm for the next one.",
        "The environment survives a kill.",
        "The runtime was killed: the environment is reset, and its next request pays a new "
        "INIT, a cold start."),
       ("The request is killed and fails, and the next request on that environment starts cold.",
        RIGHT,
        "An out-of-memory kill fails one request and slows the next with a cold start. Size "
        "memory to a high percentile of the peak, not to the median."),
       ("Lambda runs it again with more memory.",
        "Lambda adjusts memory for you.",
        "Memory is your configuration; Lambda never raises it. You find kills in the logs and "
        "raise it yourself.")),
    _q("03.3", "the timeout is billed",
       "A function's timeout is 3 s. A request that would have taken 5 s reaches it. What is "
       "billed for its run?",
       ("Nothing: a failed run is not billed.",
        "Failed runs are free.",
        "Lambda bills the time the code ran, successful or not: the 3 s up to the kill."),
       ("5 s: what it would have taken.",
        "The bill follows the work the request needed.",
        "The run is killed at exactly 3 s; nothing runs after that, and nothing after it is "
        "billed."),
       ("3 s, up to the kill, for a result nobody gets.",
        RIGHT,
        "The timeout cuts the run at its limit: billed in full up to it, and producing nothing. "
        "A timeout is a guard against runaway requests, not a saving."),
       ("3 s, and the environment keeps the request's state for the next request to resume.",
        "A timed-out request can be resumed.",
        "After a timeout the environment is reset; the next request starts a new run (and pays "
        "a new INIT).")),
    _q("03.4", "power tuning below one vCPU",
       "A single-threaded CPU-bound function moves from 512 MB to 1,024 MB (both below 1,769 MB). "
       "Its cost per invocation...",
       ("doubles: twice the memory, twice the price.",
        "Cost follows memory alone.",
        "The price per millisecond doubles, but the CPU share doubles too, so the run takes half "
        "as long."),
       ("halves: it runs twice as fast.",
        "Cost follows run time alone.",
        "The run time halves, but each millisecond costs twice as much."),
       ("stays about the same: twice the price per ms for half the ms.",
        RIGHT,
        "Below one vCPU, memory x time is constant for single-threaded CPU-bound code: more "
        "memory is free speed up to 1,769 MB, and waste above it."),
       ("rises a little, because the request fee grows with memory.",
        "The request fee depends on memory.",
        "The request fee is the same for every size: 0.20 USD per million requests.")),
    # -- lesson 4 ------------------------------------------------------------------------------
    _q("04.1", "who kept the rounding",
       "Under 100 ms billing, a 30 ms run was billed 100 ms. What happened during the 70 ms "
       "billed but not run, and who gained?",
       ("The handler's clean-up ran; the customer got that work.",
        "Billed time is time the code ran.",
        "The code had returned. The billed time beyond the run is pure rounding."),
       ("The environment served another request, so both paid for it.",
        "Requests share billed time.",
        "An environment serves one request at a time, and each request is billed its own "
        "rounded duration."),
       ("Nothing ran, the environment was frozen: the provider kept the difference.",
        RIGHT,
        "The customer paid for time in which the host ran nothing for it: margin for the "
        "provider, given back with 1 ms billing in December 2020."),
       ("The next request's INIT ran; the customer paid it in advance.",
        "The rounding paid for the next cold start.",
        "The rounding is attached to one run and pays for nothing: the next request may be warm, "
        "and was not billed its INIT at the time anyway.")),
    _q("04.2", "the staircase of 100 ms billing",
       "Under 100 ms billing, same memory: which costs more per invocation, a run of 101 ms or a "
       "run of 199 ms?",
       ("The 199 ms run, about 97 % more: each is billed what it ran.",
        "The bill is proportional to run time under 100 ms billing too.",
        "Each run is rounded up to the next 100 ms: both are billed 200 ms."),
       ("The 199 ms run, twice as much: 101 ms rounds down to 100 ms.",
        "Billing rounds to the nearest step.",
        "Billing always rounds up: 101 ms was billed 200 ms."),
       ("They cost the same: both are billed 200 ms.",
        RIGHT,
        "Under 100 ms billing the cost is a staircase: a 101 ms run pays for 98 % more time than "
        "it ran, a 199 ms run for almost none."),
       ("The 101 ms run: a run just past a step pays a penalty.",
        "There is a penalty for crossing a step.",
        "There is no penalty, only rounding up: both are billed 200 ms.")),
    _q("04.3", "when provisioned concurrency pays",
       "With today's x86 prices, when does a provisioned concurrency of 10 cost less than "
       "on-demand for the same requests?",
       ("Always: its duration price is lower.",
        "Only the lower duration price counts.",
        "It also charges for every configured GB-s while enabled, busy or idle; at low traffic "
        "that charge outweighs the saving."),
       ("Never: it is a charge on top of on-demand.",
        "Provisioned concurrency is a pure surcharge.",
        "Requests on provisioned environments pay 0.0000097222 USD per GB-s instead of "
        "0.0000166667; at high use the saving pays for the configured charge."),
       ("At low traffic, because the free tier covers its charge.",
        "The free tier applies to provisioned concurrency.",
        "The free tier does not apply to functions with provisioned concurrency, and low traffic "
        "is where it costs the most."),
       ("When its environments are busy more than about 60 % of the time.",
        RIGHT,
        "Break-even utilisation is 0.0000041667 / (0.0000166667 - 0.0000097222) = 60 %; "
        "spillover beyond the 10 moves it a little higher.")),
    # -- lesson 5 ------------------------------------------------------------------------------
    _q("05.1", "sync, async and polling",
       "Which of these triggers invokes a function asynchronously?",
       ("An SQS queue: messages wait in a queue, so the invocation is asynchronous.",
        "A queue trigger is an asynchronous invocation.",
        "SQS is read by an event source mapping: Lambda's pollers read the queue and invoke the "
        "function synchronously with a batch."),
       ("An S3 event notification.",
        RIGHT,
        "S3 (like SNS and EventBridge) hands the event to Lambda's internal queue and gets 202 "
        "at once; Lambda runs the function from the queue and retries failures twice."),
       ("API Gateway: the client is outside AWS.",
        "Callers outside AWS invoke asynchronously.",
        "API Gateway invokes synchronously: it waits for the function's answer to return it to "
        "the client."),
       ("A Kinesis stream: the stream pushes each record to the function.",
        "Streams push records.",
        "Streams are polled: an event source mapping reads each shard and invokes the function "
        "synchronously with a batch, in order.")),
    _q("05.2", "a throttled asynchronous event",
       "An S3-triggered function is at its reserved concurrency when a new upload's event comes. "
       "What becomes of the event?",
       ("It is lost: a throttle refuses the event.",
        "An asynchronous throttle works like a synchronous one.",
        "Only a synchronous caller is refused. An asynchronous event stays in Lambda's queue and "
        "is tried again."),
       ("S3 gets a 429 and uploads the object again later.",
        "S3 waits for the function.",
        "S3's notification is asynchronous: the upload was answered long before; Lambda, not "
        "S3, holds and retries the event."),
       ("It goes to the dead-letter queue.",
        "A throttle counts as a failed attempt.",
        "The dead-letter queue receives events whose attempts all failed or that aged out, not "
        "throttled ones."),
       ("It goes back to Lambda's queue and is tried again after a backoff (1 s, then doubling "
        "up to 5 minutes), for up to 6 hours by default.",
        RIGHT,
        "An asynchronous throttle becomes a delay, not an error: the event waits in the queue, "
        "up to its maximum event age (6 hours by default).")),
    _q("05.3", "a poison record blocks its shard",
       "A Kinesis record makes the function fail every time. The event source mapping has its "
       "default settings. What happens?",
       ("The shard is blocked: the batch is retried until the record expires, its iterator age "
        "grows, and the other shards keep flowing.",
        RIGHT,
        "Records are processed in order per shard; by default retries are unlimited until the "
        "record expires. Watch IteratorAge; bound retries or record age, or bisect the batch."),
       ("After three attempts the record is skipped, as for S3 events.",
        "Asynchronous retry rules apply to streams.",
        "Streams are polled, not asynchronous: by default the mapping retries until the record "
        "expires (maximum retry attempts -1)."),
       ("The whole stream stops.",
        "One shard blocks every shard.",
        "Each shard is read on its own; only the poison record's shard waits."),
       ("The record goes straight to the dead-letter queue, and the batch moves on.",
        "A failing record is set aside at once.",
        "Nothing is set aside by default; an on-failure destination receives only a description "
        "of a batch discarded after a retry or age limit you set.")),
    # -- lesson 5b -----------------------------------------------------------------------------
    _q("05b.1", "an S3 key arrives URL-encoded",
       "A handler reads event['Records'][0]['s3']['object']['key'] and asks S3 for that object. "
       "It works for report.txt, but S3 answers NoSuchKey for photos/red flower.jpg. Why?",
       ("S3 notified the function before the object was written.",
        "The notification comes before the object exists.",
        "S3 sends an ObjectCreated notification after the object is created; the key is the "
        "problem."),
       ("Keys with spaces are not allowed in S3.",
        "S3 keys cannot contain spaces.",
        "The object exists under its key with a space; the event writes that key differently."),
       ("The key arrives URL-encoded (photos/red+flower.jpg) and must be decoded with "
        "unquote_plus.",
        RIGHT,
        "object.key in an S3 event is URL-encoded: a space arrives as '+'. Decode it before "
        "using it."),
       ("The event holds the file's contents, not its key: read the data from the event.",
        "Events carry the data.",
        "An S3 notification carries metadata only (bucket, key, size...), at most 64 KB; the "
        "handler must get the object itself.")),
    _q("05b.2", "EventBridge cron expressions",
       "When does the EventBridge rule cron(15 10 * * ? *) invoke its function?",
       ("Every day at 10:15 in the Region's local time.",
        "Schedules run in local time.",
        "EventBridge cron expressions are in UTC."),
       ("Never: ? is not a valid value, the rule is refused.",
        "The expression follows Unix cron.",
        "EventBridge's cron has six fields, and one of the two day fields must be ?; this one "
        "is valid."),
       ("At second 15 of minute 10 of every hour.",
        "The first field is seconds.",
        "EventBridge's cron has no seconds: its six fields are Minutes Hours Day-of-month Month "
        "Day-of-week Year."),
       ("Every day at 10:15 UTC.",
        RIGHT,
        "Minutes 15, hours 10, any day of the month (*), any month, ? for the day of the week, "
        "any year: 10:15 UTC daily.")),
    _q("05b.3", "an SDK caller and FunctionError",
       "A program invokes a function with the SDK, InvocationType RequestResponse, and the "
       "function raises an exception. What does the program get?",
       ("HTTP 200, with FunctionError set and the error document in the payload.",
        RIGHT,
        "The Invoke call itself succeeded; the function's failure is reported in FunctionError "
        "(X-Amz-Function-Error). Checking the status code is not enough."),
       ("HTTP 500, as for any server error.",
        "A function error is an HTTP error of the Invoke API.",
        "The Invoke API answers 200 and reports the error in FunctionError. (A 500 or 502 is "
        "what API Gateway turns Lambda's answers into.)"),
       ("HTTP 202 Accepted: the error is handled later.",
        "RequestResponse is asynchronous.",
        "202 is the answer to InvocationType Event. RequestResponse waits for the function's "
        "result, error included."),
       ("Nothing: the exception is lost and the call waits until it times out.",
        "Errors disappear across the network.",
        "No exception crosses the network, but an error document does: the caller gets it at "
        "once.")),
    # -- lesson 6 ------------------------------------------------------------------------------
    _q("06.1", "counting cold starts in the logs",
       "How do you count a function's cold starts from its CloudWatch logs alone?",
       ("Count the START lines.",
        "Only cold requests get a START line.",
        "Every request, warm or cold, gets START, END and REPORT lines."),
       ("Count the REPORT lines that carry an Init Duration.",
        RIGHT,
        "Only a cold start's REPORT line has an Init Duration field, so counting cold starts is "
        "a text search."),
       ("Count the REPORT lines whose Duration is well above the median.",
        "A cold start shows as a long Duration.",
        "Duration is the handler's run time; the INIT is reported separately, as Init "
        "Duration. A slow request can be warm, a cold one fast."),
       ("Read the Errors metric: each cold start is counted there.",
        "A cold start is an error.",
        "A cold start is a normal, successful request that waited for INIT; Errors counts "
        "exceptions and timeouts.")),
    _q("06.2", "memory buys CPU, seen in REPORT lines",
       "A CPU-bound function at 128 MB times out often; its REPORT lines say Max Memory Used: "
       "70 MB, Memory Size: 128 MB. What do they tell you?",
       ("It is starved of CPU: raising the memory raises its CPU share, even though it uses "
        "little memory.",
        RIGHT,
        "128 MB buys about 7 % of a vCPU. Memory was not the problem, CPU was: on Lambda you buy "
        "CPU by buying memory."),
       ("Its memory is oversized: lowering it to 80 MB would cost less and run as fast.",
        "Memory only sizes RAM.",
        "Less memory means less CPU, so a slower run (and 128 MB is the minimum anyway)."),
       ("It runs out of memory.",
        "Timeouts mean memory trouble.",
        "An out-of-memory kill shows Max Memory Used at Memory Size; 70 of 128 MB is not one. "
        "These requests were killed by the timeout.")),
    _q("06.3", "a percentile cut by the timeout",
       "For the first half hour, the Duration p99 sat exactly on the 3,000 ms timeout line. What "
       "does it say about the slowest 1 % of requests?",
       ("They took about 3 s.",
        "A percentile at a cap measures the requests.",
        "The timeout cut them at 3 s: the metric shows the cap, not how long they needed."),
       ("They took 3 s or more: the timeout killed them, so the metric cannot say how long they "
        "would have run.",
        RIGHT,
        "A p99 stuck at the timeout is censored: 'about 3 s or more'. The fix (more memory) "
        "showed how long they really were."),
       ("They were throttled.",
        "A timeout is a throttle.",
        "Throttled requests never run and have no Duration; Throttles stayed at zero. These ran "
        "until the timeout killed them.")),
    _q("06.4", "versioned event names in CloudTrail",
       "An automation looks for CloudTrail records whose eventName equals "
       "'UpdateFunctionConfiguration'. Which of the run's configuration changes does it find?",
       ("None: Lambda's event names carry an API version, e.g. "
        "UpdateFunctionConfiguration20150331v2; match the prefix.",
        RIGHT,
        "The event names carry the version of the API they belong to, a quirk that defeats "
        "exact-match searches."),
       ("All of them: eventName is the API call's name.",
        "Event names are the plain API names.",
        "Lambda's event names may carry an API-version suffix, so an exact match misses them."),
       ("Only those made in the console.",
        "CloudTrail records console changes only.",
        "CloudTrail records control-plane calls from the console, the CLI, SDKs and pipelines "
        "alike; the name, not the caller, is the problem here.")),
    # -- lesson 7 ------------------------------------------------------------------------------
    _q("07.1", "retries repeat side effects",
       "transform fails after it has written its output, and Lambda retries the event. Why is "
       "the file then registered twice?",
       ("S3 sent two notifications for the upload.",
        "The duplicates come from S3.",
        "One upload, one notification: the second registration comes from Lambda's retry, "
        "which wrote the output again."),
       ("The retry ran the whole handler again, so the output was written, and registered, a "
        "second time.",
        RIGHT,
        "Asynchronous delivery is at least once: a retry repeats the side effects of the failed "
        "attempt. Every stage must be idempotent."),
       ("Lambda retries only the part of the handler that failed, but the write is counted "
        "twice.",
        "A retry resumes where the handler failed.",
        "A retry runs the handler from the start, with the same event; nothing remembers how "
        "far the failed attempt got."),
       ("The dead-letter queue replays its events.",
        "The dead-letter queue redelivers.",
        "A dead-letter queue only keeps events whose every attempt failed; nothing is replayed "
        "from it unless you do it.")),
    _q("07.2", "one environment is not enough",
       "The API's offered load is 5 x 0.1 = 0.5 environments, and its reserved concurrency is 1. "
       "Why do many requests still get a 500?",
       ("With random arrivals, a request often comes while the one environment is busy, and is "
        "throttled at once.",
        RIGHT,
        "Erlang B with one environment and an offered load of 0.5 throttles a third of the "
        "requests: limits act on the peaks, not on the mean."),
       ("One environment handles twice the load, so the 500s must be bugs in the code.",
        "A limit sized to the mean load is enough.",
        "The mean leaves room, but arrivals bunch up; the 500s are Lambda's throttles, as "
        "API Gateway passes them on."),
       ("API Gateway's own throttling refuses them.",
        "API Gateway's throttle answers 500.",
        "API Gateway's own throttle answers 429, at 10,000 requests per second per account; "
        "Lambda's throttle reaches the client as a 500."),
       ("The requests queue for the environment and time out.",
        "Synchronous requests queue.",
        "Nothing waits: a synchronous request that finds the environment busy is refused at "
        "once.")),
    _q("07.3", "a stream validator cannot reject",
       "Can a function on a DynamoDB stream stop an invalid order from being written?",
       ("Yes: raising an exception rolls the write back.",
        "A stream function runs before the write commits.",
        "A stream record exists only after the write has committed; raising only makes the "
        "batch fail and blocks the shard."),
       ("Yes: returning the order's id in batchItemFailures rejects it.",
        "A partial batch response rejects items.",
        "batchItemFailures asks the poller to retry from those records; the table is not "
        "changed."),
       ("No: it learns of committed writes; it can flag, repair or move the item, and rejecting "
        "means validating before the write.",
        RIGHT,
        "The validator sees the change after it is in the table; only the code or API that "
        "writes can refuse it.")),
    _q("07.4", "one poison message fails its batch",
       "An SQS queue is read in batches of 10, without ReportBatchItemFailures; one message of a "
       "batch always fails. Which messages come back to the queue?",
       ("Only the poison message: Lambda knows which one failed.",
        "Lambda knows which message failed.",
        "Without a partial batch response the handler's error is about the whole batch; Lambda "
        "cannot tell which message caused it."),
       ("None: failed messages are deleted.",
        "A failed batch is deleted.",
        "Only a successful batch is deleted; a failed one becomes visible again after the "
        "visibility timeout."),
       ("All 10: the batch fails as a whole.",
        RIGHT,
        "By default a batch succeeds or fails together, so good messages are processed again, "
        "and can reach the dead-letter queue with the poison one.")),
    # -- lesson 8 ------------------------------------------------------------------------------
    _q("08.1", "checking code against theory",
       "simlab's runs land on Erlang B, M/G/infinity and e^(-lambda T) within their error bars. "
       "What does that show?",
       ("That simlab behaves like AWS Lambda.",
        "Agreement with theory validates the model against reality.",
        "The formulas share simlab's assumptions (Poisson arrivals, a fixed keep-alive); only "
        "measurements of the real platform can test those."),
       ("That the engine follows its own rules: it throttles, counts and expires environments "
        "correctly.",
        RIGHT,
        "Theory checks the code where exact answers exist; it says nothing about whether AWS "
        "follows the same rules."),
       ("Nothing: one 95 % interval in 20 misses, so the check can never pass.",
        "A 95 % interval must always contain the truth.",
        "A 95 % interval misses 1 time in 20 by construction; the test asks for the 99.9 % "
        "interval and for most points inside the 95 % one.")),
    _q("08.2", "where a busy function's cold starts come from",
       "A function called every 20 s on average, keep-alive 10 minutes: e^(-lambda T) predicts "
       "essentially no cold starts, yet 37 were measured in 28 hours. Where do they come from?",
       ("The formula is only an approximation of the simulator.",
        "e^(-lambda T) is approximate.",
        "The formula is exact for what it describes, a rarely called function with one "
        "environment; here its assumptions fail."),
       ("The keep-alive in 2020 was shorter than 10 minutes.",
        "Fewer warm starts means a shorter keep-alive.",
        "The data show the opposite: idle instances of the busy function were reused after 12, "
        "15, even 21 minutes."),
       ("From overlaps (a request arriving while the only environment is busy) and from "
        "environments recycled about every 2 hours.",
        RIGHT,
        "Both are left out by e^(-lambda T); simlab models both, and gets cold starts, though "
        "too many.")),
    _q("08.3", "leave-one-out",
       "The measured-2020 rules were also fitted on one experiment alone and used to predict the "
       "other. Why?",
       ("To double the data behind the fit.",
        "Leave-one-out adds data.",
        "Each fit uses less data, not more; the point is to test it on data it did not see."),
       ("A good fit on both experiments already proves the rules; the extra fits only confirm "
        "it.",
        "A good fit means the right model.",
        "Several parameter pairs fit both experiments and disagree elsewhere; only a prediction "
        "of unseen data can tell whether a fit carries over."),
       ("To see whether rules fitted on one experiment predict data they were not tuned on.",
        RIGHT,
        "A model fitted to data must be tested on other data: fitted on the quiet function, the "
        "rules carry over to the busy one; the reverse fit does not.")),
    # -- lesson 9 ------------------------------------------------------------------------------
    _q("09.1", "what a short trace cannot judge",
       "Replaying the 20-minute Azure sample with a 10-minute keep-alive, a large share of "
       "requests start cold. Why does that not show that 10 minutes is too short?",
       ("Because the trace comes from Azure, where keep-alive does not apply.",
        "Another platform's trace says nothing about keep-alive.",
        "Replaying it under Lambda's rules is exactly how simlab tests a keep-alive; the "
        "problem is the trace's length."),
       ("Because in 20 minutes most cold starts are first requests and overlaps, cold whatever "
        "the keep-alive.",
        RIGHT,
        "The first request of every function must start cold, and so must one arriving while "
        "the function's environments are busy: no keep-alive avoids them."),
       ("Because a longer keep-alive would remove those cold starts anyway.",
        "Any cold start can be removed by keeping environments longer.",
        "Only the cold starts after an idle gap depend on the keep-alive; in a 20-minute window "
        "there are few.")),
    _q("09.2", "what a Pareto front can and cannot do",
       "Every fixed keep-alive of the sweep lies on the Pareto front. What follows?",
       ("They are all equally good.",
        "On the front means equivalent.",
        "They differ: each saves cold starts by holding more idle memory. None is worse on both "
        "counts, which is all the front says."),
       ("The longest keep-alive is best: it has the fewest cold starts.",
        "One criterion decides.",
        "It also holds the most idle memory; which of the two matters more is a preference."),
       ("The front cannot choose: a preference between cold starts and idle memory must.",
        RIGHT,
        "The front removes dominated settings; choosing among the rest needs a weight, as the "
        "score does."),
       ("The sweep was too coarse: a finer grid would leave dominated points.",
        "A front always has dominated points.",
        "For fixed keep-alives, longer always means fewer cold starts and more idle memory: no "
        "setting dominates another, however fine the grid.")),
    _q("09.3", "where a fixed keep-alive wastes memory",
       "Under the fixed 10-minute keep-alive, which functions pay the most idle memory per warm "
       "start?",
       ("The busiest functions: more requests, more environments to keep.",
        "Idle memory grows with traffic.",
        "A busy function's environments are rarely idle long, and nearly every request is "
        "warm: cheap per warm start."),
       ("Timers that fire every 60 seconds.",
        "Frequent calls waste keep-alive.",
        "Each timer's environment waits a minute between calls and every call is warm: less "
        "than 30 GB-s per warm start, a bargain."),
       ("Functions called about once every 20 minutes: their environments wait 10 minutes for "
        "nothing after most requests, which start cold anyway.",
        RIGHT,
        "Their gaps are longer than the keep-alive, so the waiting rarely buys a warm start; "
        "an adaptive policy keeps their environments for less.")),
    _q("09.4", "scoring on held-out workloads",
       "Why does capstone.score judge a policy on workloads (seeds 101 to 103) that the sweeps "
       "never used?",
       ("More seeds give smaller error bars.",
        "Held-out data is for precision.",
        "Precision comes from more runs of any kind; held out means unseen by the tuning."),
       ("A policy tuned on the sweep's workloads can fit their quirks; unseen workloads show "
        "whether it generalises, like a test set.",
        RIGHT,
        "Judging on held-out workloads keeps the contest honest: tuning on the test set would "
        "reward luck."),
       ("The held-out workloads are harder, to make the contest difficult.",
        "Held-out data is chosen to be harder.",
        "They are built the same way, with other random rotations; they are only unseen.")),
)

#: Every concept check, by id, in course order.
BANK: dict[str, Question] = {q.id: q for q in _QUESTIONS}
