import TuttiCLI

/// The executable only runs the command tree from `TuttiCLI`.
@main
struct EntryPoint {
    static func main() async {
        await TuttiCommand.main()
    }
}
