#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Runs `produce` on a thread of its own and hands what it emits, in order and in batches, to
/// `consume` on the calling thread: parsing a file on one core while the other writes to
/// SQLite. At most `depth` batches wait between the two (memory stays bounded whatever the
/// input's size). An error on either side stops both; the producer's is rethrown first. The
/// producer has finished when this returns (`produce` escapes only into its thread; it is not
/// a `withoutActuallyEscaping` closure, whose check would trap while that thread lets go of it).
public func pipelined<T>(batchSize: Int = 2048, depth: Int = 4,
                         produce: @escaping (_ emit: (T) throws -> Void) throws -> Void,
                         consume: (T) throws -> Void) throws {
    let queue = BoundedQueue<[T]>(capacity: depth)
    do {
        let box = UncheckedBox(produce)
        let finished = BoundedQueue<Error?>(capacity: 1)
        DispatchQueue.global().async {
            var batch: [T] = []
            batch.reserveCapacity(batchSize)
            var failure: Error?
            do {
                try box.value { item in
                    batch.append(item)
                    if batch.count == batchSize {
                        guard queue.put(batch) else { throw PipelineStopped() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = queue.put(batch) }
            } catch is PipelineStopped {
            } catch {
                failure = error
            }
            queue.close()
            _ = finished.put(failure)
        }
        var consumerError: Error?
        while let items = queue.take() {
            do { for item in items { try consume(item) } } catch { consumerError = error; queue.cancel(); break }
        }
        let producerError = finished.take() ?? nil
        if let producerError { throw producerError }
        if let consumerError { throw consumerError }
    }
}

private struct PipelineStopped: Error {}

/// A value handed to exactly one other thread (the caller vouches for it).
public struct UncheckedBox<V>: @unchecked Sendable {
    public let value: V
    public init(_ value: V) { self.value = value }
}

/// A FIFO of at most `capacity` elements between threads (pthread mutex and conditions): the
/// pipeline's hand-over, and a pool of things lent one at a time (`take`, then `put` back).
public final class BoundedQueue<Element>: @unchecked Sendable {
    private var items: [Element] = []
    private var closed = false, cancelled = false
    private let capacity: Int
    private var mutex = pthread_mutex_t()
    private var notEmpty = pthread_cond_t(), notFull = pthread_cond_t()

    public init(capacity: Int) {
        self.capacity = capacity
        pthread_mutex_init(&mutex, nil); pthread_cond_init(&notEmpty, nil); pthread_cond_init(&notFull, nil)
    }
    deinit { pthread_mutex_destroy(&mutex); pthread_cond_destroy(&notEmpty); pthread_cond_destroy(&notFull) }

    /// Waits for room; false when the consumer gave up.
    @discardableResult
    public func put(_ item: Element) -> Bool {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        while items.count >= capacity && !cancelled { pthread_cond_wait(&notFull, &mutex) }
        if cancelled { return false }
        items.append(item)
        pthread_cond_signal(&notEmpty)
        return true
    }

    /// Waits for an element; nil once the queue is closed and empty.
    public func take() -> Element? {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        while items.isEmpty && !closed { pthread_cond_wait(&notEmpty, &mutex) }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        pthread_cond_signal(&notFull)
        return item
    }

    /// An element if one is waiting, without waiting.
    public func takeIfAny() -> Element? {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        pthread_cond_signal(&notFull)
        return item
    }

    public func close() {
        pthread_mutex_lock(&mutex); closed = true; pthread_cond_broadcast(&notEmpty); pthread_mutex_unlock(&mutex)
    }

    public func cancel() {
        pthread_mutex_lock(&mutex); cancelled = true; items.removeAll(); pthread_cond_broadcast(&notFull); pthread_mutex_unlock(&mutex)
    }
}

/// `produce` (on a thread of its own) emits jobs in order; `workers` threads turn each into a
/// result with `work`; `consume` receives the results on the calling thread in the jobs' order.
/// At most `inFlight` jobs are out (emitted and not yet consumed), so memory stays bounded.
/// A job whose `work` throws ends the run there: every earlier result is consumed first, as
/// a sequential loop would have done. An error on the consuming side, or the producer's, stops
/// everything; all threads have finished when this returns.
///
/// `workerNice`: the helpers' niceness (Linux, per thread). When the consuming thread is the
/// bound — a writer — fair scheduling would give each of three runnable threads two-thirds of
/// a core and slow the writer by as much; niced helpers take only what it leaves.
public func parallelOrdered<Job, Output>(workers: Int, inFlight: Int, workerNice: Int32 = 0,
                                         produce: @escaping (_ emit: (Job) throws -> Void) throws -> Void,
                                         work: @escaping (Job) throws -> Output,
                                         consume: (Output) throws -> Void) throws {
    let jobs = BoundedQueue<(Int, Job)>(capacity: max(inFlight, 1))
    let results = OrderedResults<Output>()
    let slots = DispatchSemaphore(value: max(inFlight, 1))
    let producer = UncheckedBox(produce), worker = UncheckedBox(work)
    // Threads of their own (not the shared pool), so that their niceness ends with them.
    var threads: [pthread_t] = []
    threads.append(spawn(nice: workerNice) {
        var emitted = 0
        var failure: Error?
        do {
            try producer.value { job in
                slots.wait()
                guard !results.isCancelled, jobs.put((emitted, job)) else { throw PipelineStopped() }
                emitted += 1
            }
        } catch is PipelineStopped {
        } catch {
            failure = error
        }
        jobs.close()
        results.finish(total: emitted, error: failure)
    })
    for _ in 0..<max(workers, 1) {
        threads.append(spawn(nice: workerNice) {
            while let (index, job) = jobs.take() {
                if results.isCancelled { continue }
                results.put(index, Result { try worker.value(job) })
            }
        })
    }
    defer {
        results.cancel()
        jobs.cancel()
        jobs.close()
        for _ in 0..<max(inFlight, 1) + 1 { slots.signal() }
        for t in threads { pthread_join(t, nil) }
    }
    var next = 0
    while true {
        switch results.take(next) {
        case .result(let r):
            next += 1
            let output = try r.get()
            try consume(output)
            slots.signal()
        case .end(let error):
            if let error { throw error }
            return
        }
    }
}

/// Runs `helper` on a thread of its own while `body` runs on the calling thread, and returns
/// both results once both have finished (so neither outlives the call, even when one throws;
/// `body`'s error is rethrown first). For two independent pieces of serial set-up, e.g. opening
/// connections while another query runs, on a machine whose other core would wait meanwhile.
public func alongside<T, U>(_ helper: @escaping () throws -> U, while body: () throws -> T) throws -> (T, U) {
    let slot = HelperOutcome<U>()
    let box = UncheckedBox(helper)
    let thread = spawn(nice: 0) { slot.value = Result { try box.value() } }
    let mine = Result { try body() }
    // The join orders the helper's write before this read.
    pthread_join(thread, nil)
    return (try mine.get(), try slot.value!.get())
}

private final class HelperOutcome<U>: @unchecked Sendable { var value: Result<U, Error>? }

/// Starts a thread running `body` at niceness `nice` (Linux keeps one per thread: `who` 0 is
/// the calling thread); join it with `pthread_join`.
private func spawn(nice: Int32, _ body: @escaping () -> Void) -> pthread_t {
    final class Body { let run: () -> Void; let nice: Int32; init(_ run: @escaping () -> Void, _ nice: Int32) { self.run = run; self.nice = nice } }
    let context = Unmanaged.passRetained(Body(body, nice)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
        #if os(Linux)
        if body.nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, body.nice) }
        #endif
        body.run()
        return nil
    }, context)
    precondition(status == 0, "cannot start a thread (pthread_create: \(status))")
    return thread
}

/// The results of `parallelOrdered`, handed out by job index.
private final class OrderedResults<Output>: @unchecked Sendable {
    private var ready: [Int: Result<Output, Error>] = [:]
    private var total: Int?
    private var producerError: Error?
    private var cancelled = false
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()

    enum Next { case result(Result<Output, Error>), end(Error?) }

    init() { pthread_mutex_init(&mutex, nil); pthread_cond_init(&changed, nil) }
    deinit { pthread_mutex_destroy(&mutex); pthread_cond_destroy(&changed) }

    var isCancelled: Bool {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        return cancelled
    }

    func put(_ index: Int, _ result: Result<Output, Error>) {
        pthread_mutex_lock(&mutex); ready[index] = result; pthread_cond_broadcast(&changed); pthread_mutex_unlock(&mutex)
    }

    func finish(total: Int, error: Error?) {
        pthread_mutex_lock(&mutex); self.total = total; producerError = error; pthread_cond_broadcast(&changed); pthread_mutex_unlock(&mutex)
    }

    func cancel() {
        pthread_mutex_lock(&mutex); cancelled = true; ready = [:]; pthread_cond_broadcast(&changed); pthread_mutex_unlock(&mutex)
    }

    /// Waits for job `index`'s result, or for the end (every emitted job handed out).
    func take(_ index: Int) -> Next {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        while true {
            if let r = ready.removeValue(forKey: index) { return .result(r) }
            if let total, index >= total { return .end(producerError) }
            pthread_cond_wait(&changed, &mutex)
        }
    }
}
