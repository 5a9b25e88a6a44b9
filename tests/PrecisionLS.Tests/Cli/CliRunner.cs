using PrecisionLS.Cli;

namespace PrecisionLS.Tests.Cli;

/// <summary>Runs one command line in process, capturing what it prints. Tests using it belong to SharedPoolCollection
/// (Console.SetOut is process-wide).</summary>
internal static class CliRunner
{
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var err = new StringWriter(); var outp = new StringWriter();
        var old = Console.Out;
        Console.SetOut(outp);
        try { return (Program.Run(args, err), outp.ToString(), err.ToString()); }
        finally { Console.SetOut(old); }
    }
}
