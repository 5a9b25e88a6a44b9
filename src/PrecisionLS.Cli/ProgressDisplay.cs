using System.Diagnostics;
using System.Globalization;
using PrecisionLS.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace PrecisionLS.Cli;

/// <summary>
/// Live training progress: step/total, loss, latest eval mse, learning rate, steps/s over a recent window, ETA.
/// </summary>
/// <remarks>
/// On a terminal it is a two-line Spectre.Console live display (bar, then numbers) redrawn about four times a
/// second; when output is
/// redirected it prints plain lines such as
/// <c>step 1200/20000  loss 3.14e-09  eval_mse 2.90e-09  lr 1.0e-02  412.3 steps/s  ETA 00:00:41</c>
/// every couple of seconds, on eval steps, and once more at completion. <see cref="Report"/> is meant to be called
/// every step: it records numbers only and formats text only when a line is printed.
/// </remarks>
public sealed class ProgressDisplay : IDisposable
{
    private const int RingSize = 16;

    private readonly long _total;
    private readonly string _title;
    private readonly TextWriter? _plainOut;
    private readonly TimeProvider _time;
    private readonly long _printIntervalTicks;
    private readonly long _sampleIntervalTicks;

    // Latest state, guarded by _gate (the interactive refresher reads it from another thread).
    private readonly Lock _gate = new();
    private long _step;
    private double _loss = double.NaN;
    private double _lr = double.NaN;
    private double _evalMse = double.NaN;
    private long _skipped;
    private bool _hasEval;
    private long _lastReportTicks;
    private bool _hasReport;

    // Rate window: (step, timestamp) samples at least _sampleIntervalTicks apart.
    private readonly long[] _ringSteps = new long[RingSize];
    private readonly long[] _ringTicks = new long[RingSize];
    private int _ringHead;
    private int _ringCount;

    // Plain mode.
    private long _lastPrintTicks;
    private long _lastPrintedStep = -1;

    // Interactive mode.
    private readonly ManualResetEventSlim? _stop;
    private readonly Task? _refresher;

    private bool _completed;

    /// <summary>Starts showing progress towards <paramref name="totalSteps"/>.</summary>
    /// <param name="totalSteps">Step count at which training ends.</param>
    /// <param name="title">Label shown before the bar (interactive) or on the first line (plain).</param>
    /// <param name="interactive">
    /// Live bar or plain lines; null chooses the bar when standard output is an interactive terminal.
    /// </param>
    /// <param name="plainOutput">Where plain lines go (default <see cref="Console.Out"/>); unused by the bar.</param>
    /// <param name="printInterval">Plain mode: time between lines (default 2 s).</param>
    /// <param name="timeProvider">Clock for rates and print intervals (default the system clock).</param>
    public ProgressDisplay(
        long totalSteps,
        string? title = null,
        bool? interactive = null,
        TextWriter? plainOutput = null,
        TimeSpan? printInterval = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        _total = totalSteps;
        _title = title ?? "train";
        _time = timeProvider ?? TimeProvider.System;
        var interval = printInterval ?? TimeSpan.FromSeconds(2);
        _printIntervalTicks = (long)(interval.TotalSeconds * _time.TimestampFrequency);
        _sampleIntervalTicks = _time.TimestampFrequency / 2; // 16 samples, 0.5 s apart: an ~8 s window
        _lastPrintTicks = _time.GetTimestamp();

        bool live = interactive ?? (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected);
        if (live)
        {
            _stop = new ManualResetEventSlim(false);
            _refresher = Task.Factory.StartNew(RunLive, TaskCreationOptions.LongRunning);
        }
        else
        {
            _plainOut = plainOutput ?? Console.Out;
            if (title is not null)
                _plainOut.WriteLine($"{title}: {_total} steps");
        }
    }

    private long? _budgetEndTicks;

    /// <summary>A wall-clock budget from now (train --max-minutes): the ETA never runs past it.</summary>
    public void SetBudget(TimeSpan budget)
    {
        lock (_gate) _budgetEndTicks = _time.GetTimestamp() + (long)(budget.TotalSeconds * _time.TimestampFrequency);
    }

    /// <summary>Records one logged step; in plain mode prints a line when one is due.</summary>
    public void Report(TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        long now = _time.GetTimestamp();
        bool print;
        lock (_gate)
        {
            _step = record.Step;
            _loss = record.Loss;
            _lr = record.LearningRate;
            if (record.EvalMse is double m)
            {
                _evalMse = m;
                _hasEval = true;
            }
            if (record.Skipped)
                _skipped++;
            _lastReportTicks = now;
            _hasReport = true;

            int newest = (_ringHead + RingSize - 1) % RingSize;
            if (_ringCount == 0 || now - _ringTicks[newest] >= _sampleIntervalTicks)
            {
                _ringSteps[_ringHead] = record.Step;
                _ringTicks[_ringHead] = now;
                _ringHead = (_ringHead + 1) % RingSize;
                _ringCount = Math.Min(_ringCount + 1, RingSize);
            }

            if (_plainOut is null)
                return;
            long since = now - _lastPrintTicks;
            print = since >= _printIntervalTicks
                || (record.EvalMse is not null && since >= _printIntervalTicks / 4)
                || record.Step >= _total;
        }
        if (print)
            PrintPlainLine(now);
    }

    /// <summary>Ends the display and prints <paramref name="message"/> (plain text) beneath it.</summary>
    public void Complete(string message)
    {
        if (_completed)
            return;
        _completed = true;
        if (_plainOut is not null)
        {
            bool pending;
            lock (_gate)
                pending = _hasReport && _lastPrintedStep != _step;
            if (pending)
                PrintPlainLine(_time.GetTimestamp());
            _plainOut.WriteLine(message);
            _plainOut.Flush();
        }
        else
        {
            StopLive();
            AnsiConsole.Write(new Text(message + Environment.NewLine));
        }
    }

    /// <summary>Stops the display (without a message when <see cref="Complete"/> was not called).</summary>
    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            if (_plainOut is not null)
                _plainOut.Flush();
            else
                StopLive();
        }
        _stop?.Dispose();
    }

    /// <summary>Steps per second over the recent window and the estimated time left; null rate when unknown.</summary>
    private (double? Rate, TimeSpan? Eta) RateAndEta()
    {
        // Caller holds _gate.
        if (_ringCount == 0)
            return (null, null);
        int oldest = (_ringHead + RingSize - _ringCount) % RingSize;
        long dSteps = _step - _ringSteps[oldest];
        double dt = (double)(_lastReportTicks - _ringTicks[oldest]) / _time.TimestampFrequency;
        if (dt <= 0 || dSteps <= 0)
            return (null, null);
        double rate = dSteps / dt;
        double left = Math.Max(0, _total - _step) / rate;
        if (_budgetEndTicks is long end)   // a time budget (--max-minutes) ends the run first when it is sooner
            left = Math.Min(left, Math.Max(0, (double)(end - _lastReportTicks) / _time.TimestampFrequency));
        return (rate, left < TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.FromSeconds(left) : null);
    }

    private void PrintPlainLine(long now)
    {
        string line;
        lock (_gate)
        {
            line = FormatStats();
            _lastPrintTicks = now;
            _lastPrintedStep = _step;
        }
        _plainOut!.WriteLine(line);
        _plainOut.Flush();
    }

    /// <summary>Current state as one line; caller holds _gate.</summary>
    private string FormatStats()
    {
        var (rate, eta) = RateAndEta();
        var ic = CultureInfo.InvariantCulture;
        const string sep = "  ";
        string rateText = rate is double r ? r.ToString(r >= 100 ? "0.0" : "0.00", ic) : "-";
        string etaText = eta is TimeSpan t ? FormatDuration(t) : "--:--:--";
        string evalText = _hasEval ? Sci(_evalMse, "0.00e+00") : "-";
        string skipped = _skipped > 0 ? $"{sep}skipped {_skipped}" : "";
        return string.Create(ic,
            $"step {_step}/{_total}{sep}loss {Sci(_loss, "0.00e+00")}{sep}eval_mse {evalText}"
            + $"{sep}lr {Sci(_lr, "0.0e+00")}{sep}{rateText} steps/s{sep}ETA {etaText}{skipped}");
    }

    private static string Sci(double v, string format) =>
        double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture)
        : double.IsNaN(v) ? "NaN" : v > 0 ? "inf" : "-inf";

    private static string FormatDuration(TimeSpan t)
    {
        long hours = (long)t.TotalHours;
        return hours > 99
            ? string.Create(CultureInfo.InvariantCulture, $"{hours}h")
            : string.Create(CultureInfo.InvariantCulture, $"{hours:00}:{t.Minutes:00}:{t.Seconds:00}");
    }

    private void RunLive()
    {
        try
        {
            AnsiConsole.Live(Text.Empty)
                .AutoClear(false)
                .Overflow(VerticalOverflow.Ellipsis)
                .Start(ctx =>
                {
                    while (true)
                    {
                        bool stop = _stop!.Wait(TimeSpan.FromMilliseconds(250));
                        ctx.UpdateTarget(LiveView());
                        ctx.Refresh();
                        if (stop)
                            break;
                    }
                });
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            // A display that cannot draw (e.g. another live display is active) must not stop training.
        }
    }

    /// <summary>Two lines: title, bar, step/total, percent, ETA; then loss, eval mse, lr, steps/s.</summary>
    private IRenderable LiveView()
    {
        var ic = CultureInfo.InvariantCulture;
        long step;
        string eta, stats;
        lock (_gate)
        {
            step = _step;
            var (rate, etaSpan) = RateAndEta();
            eta = etaSpan is TimeSpan t ? FormatDuration(t) : "--:--:--";
            string rateText = rate is double r ? r.ToString(r >= 100 ? "0.0" : "0.00", ic) : "-";
            stats = string.Create(ic,
                $"loss {Sci(_loss, "0.00e+00")}  eval_mse {(_hasEval ? Sci(_evalMse, "0.00e+00") : "-")}  "
                + $"lr {Sci(_lr, "0.0e+00")}  {rateText} steps/s{(_skipped > 0 ? $"  skipped {_skipped}" : "")}");
        }

        double frac = _total > 0 ? Math.Clamp((double)step / _total, 0, 1) : 1;
        string counts = string.Create(ic, $"{step}/{_total}  {frac * 100,5:0.0}%  ETA {eta}");
        int width = AnsiConsole.Profile.Width;
        int barWidth = Math.Clamp(width - _title.Length - counts.Length - 6, 10, 60);
        int filled = (int)Math.Round(frac * barWidth);
        var line1 = new Markup(
            $"[bold]{Markup.Escape(_title)}[/]  [green]{new string('━', filled)}[/][grey]{new string('━', barWidth - filled)}[/]  {counts}");
        var line2 = new Text("  " + stats);
        return new Rows(line1, line2);
    }

    private void StopLive()
    {
        _stop?.Set();
        try
        {
            _refresher?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
