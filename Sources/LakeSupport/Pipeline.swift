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

    public func close() {
        pthread_mutex_lock(&mutex); closed = true; pthread_cond_broadcast(&notEmpty); pthread_mutex_unlock(&mutex)
    }

    public func cancel() {
        pthread_mutex_lock(&mutex); cancelled = true; items.removeAll(); pthread_cond_broadcast(&notFull); pthread_mutex_unlock(&mutex)
    }
}
