import SwitchboardCommands

/// The `switchboard` executable: everything lives in `SwitchboardCommands` so that it can be tested.
@main
struct SwitchboardMain {
    static func main() async {
        await SwitchboardCLI.main()
    }
}
