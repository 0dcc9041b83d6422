#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Echo
import UnixSignals
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `switchboard echo`: the built-in test workload, or its client.
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Test workload: answer on TCP, UDP and HTTP with the pod name and the client address seen.",
        discussion: """
            Every answer is one line, pod=NAME client=IP:PORT, where NAME is $POD_NAME, else --name, else the \
            hostname. TCP answers on connect and once per line received; UDP answers every datagram; HTTP \
            answers every request with 200 and the line as a text/plain body. Runs until SIGTERM or SIGINT. \
            With --query URL it is the client instead: it prints each answer line and exits 1 unless all came.
            """)

    @Option(help: ArgumentHelp("Answer on TCP (empty HOST: all addresses).", valueName: "[HOST]:PORT"))
    var tcp: String?

    @Option(help: ArgumentHelp("Answer on UDP.", valueName: "[HOST]:PORT"))
    var udp: String?

    @Option(help: ArgumentHelp("Answer on HTTP/1.1.", valueName: "[HOST]:PORT"))
    var http: String?

    @Option(help: "The pod name in answers when POD_NAME is not set (default: the hostname).")
    var name: String?

    @Option(help: ArgumentHelp(
        "Query a server instead: tcp://HOST:PORT, udp://HOST:PORT or http://HOST:PORT/PATH.", valueName: "URL"))
    var query: String?

    @Option(help: "With --query: how many requests (TCP and HTTP: a new connection each).")
    var count = 1

    @Option(help: "With --query: seconds to wait for each answer.")
    var timeout: Double = 2

    @Option(help: "With --query udp://…: send from this local port (the same flow from one query to the next).")
    var sourcePort: Int?

    @Flag(help: ArgumentHelp(
        "With --query: query back to back until SIGTERM, printing `UNIX-TIME OUTCOME` whenever the outcome (the pod that answered, refused, no-answer, failed) changes: how long a change of endpoints takes to show."))
    var watch = false

    private enum Mode {
        case serve(tcp: EchoListenAddress?, udp: EchoListenAddress?, http: EchoListenAddress?)
        case query(EchoTarget)
    }

    func validate() throws {
        _ = try mode()
    }

    func run() async throws {
        switch try mode() {
        case .serve(let tcp, let udp, let http): try await serve(tcp: tcp, udp: udp, http: http)
        case .query(let target): try await (watch ? watchQueries(target) : runQueries(target))
        }
    }

    private func mode() throws -> Mode {
        let listening = tcp != nil || udp != nil || http != nil
        guard let query else {
            guard listening else { throw ValidationError("give at least one of --tcp, --udp, --http, or --query URL") }
            return .serve(
                tcp: try listenAddress(tcp, flag: "--tcp"), udp: try listenAddress(udp, flag: "--udp"),
                http: try listenAddress(http, flag: "--http"))
        }
        guard !listening else {
            throw ValidationError("--query runs the client; drop --tcp, --udp and --http, or run the server separately")
        }
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
            throw ValidationError("--timeout must be a number of seconds above 0, such as 2 or 0.5")
        }
        do {
            return .query(try EchoTarget(parsing: query))
        } catch {
            throw ValidationError("--query: \(error)")
        }
    }

    private func listenAddress(_ text: String?, flag: String) throws -> EchoListenAddress? {
        guard let text else { return nil }
        do {
            return try EchoListenAddress(parsing: text)
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
    }

    private func serve(tcp: EchoListenAddress?, udp: EchoListenAddress?, http: EchoListenAddress?) async throws {
        // Trap the signals before saying we listen: whoever waits for that line may signal at once.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let podName = EchoAnswer.podName(environment: ProcessInfo.processInfo.environment["POD_NAME"], flag: name)
        let server: EchoServer
        do {
            server = try await EchoServer.start(tcp: tcp, udp: udp, http: http, name: podName)
        } catch {
            Self.printError("echo: \(error)")
            throw ExitCode.failure
        }
        for listener in server.listeners {
            print("echo: \(listener)")
        }
        fflush(nil)
        for await _ in signals { break }
        await server.close()
    }

    private func watchQueries(_ target: EchoTarget) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let timeout = self.timeout
        let sourcePort = self.sourcePort
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var last = ""
                while !Task.isCancelled {
                    let outcome: String
                    do {
                        let answer = try await EchoClient.query(target, timeout: .seconds(timeout), sourcePort: sourcePort)
                        outcome = String(answer.split(separator: " ").first ?? "")
                    } catch let error as EchoError {
                        switch error {
                        case .refused: outcome = "refused"
                        case .noAnswer: outcome = "no-answer"
                        default: outcome = "failed"
                        }
                    } catch {
                        outcome = "failed"
                    }
                    guard outcome != last else { continue }
                    last = outcome
                    var now = timespec()
                    clock_gettime(CLOCK_REALTIME, &now)
                    let fraction = String(now.tv_nsec)
                    print("\(now.tv_sec).\(String(repeating: "0", count: 9 - fraction.count))\(fraction) \(outcome)")
                    fflush(nil)
                }
            }
            for await _ in signals { break }
            group.cancelAll()
        }
    }

    private func runQueries(_ target: EchoTarget) async throws {
        var failures: [EchoError] = []
        for _ in 0..<count {
            do {
                print(try await EchoClient.query(target, timeout: .seconds(timeout), sourcePort: sourcePort))
                fflush(nil)
            } catch {
                failures.append(error)
            }
        }
        guard let first = failures.first else { return }
        if count == 1 {
            Self.printError("echo: \(first)")
        } else {
            Self.printError("echo: \(failures.count) of \(count) queries failed; the first: \(first)")
        }
        throw ExitCode.failure
    }

    /// One line on stderr; `FileHandle` is not in FoundationEssentials and the C `stderr` is a global var.
    private static func printError(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
