using System.Diagnostics;

namespace PrecisionLS.Cli;

/// <summary>Starts this command line tool again as a child process (sweep --parallel), its output going to a log.</summary>
public static class SelfLauncher
{
    /// <summary>Starts `precisionls ARGS` with stdout and stderr copied line by line into <paramref name="log"/>.</summary>
    public static Process Start(IReadOnlyList<string> args, TextWriter log)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string cliDll = typeof(Program).Assembly.Location;
        string? exe = Environment.ProcessPath;
        if (exe is not null && Path.GetFileNameWithoutExtension(exe) == Path.GetFileNameWithoutExtension(cliDll))
            psi.FileName = exe;   // the apphost (dotnet run, or a published executable)
        else
        {
            // Running inside `dotnet` (dotnet PrecisionLS.Cli.dll, or the test host): start the dll through the same host.
            psi.FileName = exe is not null && Path.GetFileNameWithoutExtension(exe) == "dotnet" ? exe
                : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
            psi.ArgumentList.Add(cliDll);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi };
        var gate = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Asks a child to stop as Ctrl+C would (SIGTERM, which it handles like SIGINT); on Windows, kills it.</summary>
    public static void Terminate(Process process)
    {
        if (process.HasExited) return;
        if (OperatingSystem.IsWindows()) { process.Kill(); return; }
        _ = SendSignal(process.Id, 15);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
