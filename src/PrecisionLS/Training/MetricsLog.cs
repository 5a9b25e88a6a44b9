using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PrecisionLS.Training;

/// <summary>
/// Append-only per-step metrics of one run: <c>runs/&lt;name&gt;/metrics.jsonl</c> (one JSON object per line) and
/// <c>metrics.csv</c> (header plus one row per step), both with the columns
/// <c>step, loss, lr, grad_norm, skipped, eval_mse, eval_rel, eval_rel_l2, wall_seconds</c>.
/// </summary>
/// <remarks>
/// Doubles are written with round-trip ("R") formatting in the invariant culture, so reading a file back gives
/// bit-identical values. Missing eval metrics are <c>null</c> in JSON and an empty cell in CSV. Non-finite values
/// are written as <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c> (JSON strings, so every line stays valid JSON;
/// bare words in CSV). Every row is handed to the operating system as soon as it is appended, so a killed process
/// loses no appended row; <see cref="Flush(bool)"/> with <c>toDisk</c> and <see cref="Dispose"/> also force it to
/// the disk. Steps must strictly increase, so each step appears once.
/// </remarks>
public sealed class MetricsLog : IDisposable
{
    /// <summary>File name of the JSON-lines log inside a run directory.</summary>
    public const string JsonlFileName = "metrics.jsonl";

    /// <summary>File name of the CSV log inside a run directory.</summary>
    public const string CsvFileName = "metrics.csv";

    /// <summary>Column names, in file order, shared by both files.</summary>
    public static IReadOnlyList<string> Columns { get; } =
        ["step", "loss", "lr", "grad_norm", "skipped", "eval_mse", "eval_rel", "eval_rel_l2", "wall_seconds"];

    private static readonly string CsvHeader = string.Join(',', Columns) + "\n";

    private readonly FileStream _jsonl;
    private readonly FileStream _csv;
    private readonly RowFormatter _formatter = new();
    private bool _disposed;

    private MetricsLog(string directory, FileStream jsonl, FileStream csv, long lastStep, int rowCount)
    {
        Directory = directory;
        _jsonl = jsonl;
        _csv = csv;
        LastStep = lastStep;
        RowCount = rowCount;
    }

    /// <summary>Run directory holding the two files.</summary>
    public string Directory { get; }

    /// <summary>Full path of metrics.jsonl.</summary>
    public string JsonlPath => Path.Combine(Directory, JsonlFileName);

    /// <summary>Full path of metrics.csv.</summary>
    public string CsvPath => Path.Combine(Directory, CsvFileName);

    /// <summary>Step of the last row in the files (0 when empty).</summary>
    public long LastStep { get; private set; }

    /// <summary>Rows currently in the files (kept rows after a resume plus rows appended since).</summary>
    public int RowCount { get; private set; }

    /// <summary>
    /// Opens the metrics files of the run in <paramref name="directory"/> (created if missing) for appending.
    /// </summary>
    /// <param name="directory">The run directory, <c>runs/&lt;name&gt;</c>.</param>
    /// <param name="resumeFromStep">
    /// Null for a fresh run: existing metrics files are replaced by empty ones. Otherwise the step the run resumes
    /// from (the checkpoint's step): rows with a larger step, left by the interrupted session, are dropped from both
    /// files (rewritten atomically from metrics.jsonl, or from metrics.csv when the JSONL file is missing) and new
    /// rows are appended after the kept ones.
    /// </param>
    public static MetricsLog Open(string directory, long? resumeFromStep)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (resumeFromStep is < 0)
            throw new ArgumentOutOfRangeException(nameof(resumeFromStep), resumeFromStep, "resumeFromStep must be >= 0 or null.");

        string dir = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(dir);
        string jsonlPath = Path.Combine(dir, JsonlFileName);
        string csvPath = Path.Combine(dir, CsvFileName);

        List<TrainingRecord> kept = [];
        if (resumeFromStep is long resume)
        {
            IReadOnlyList<TrainingRecord> existing =
                File.Exists(jsonlPath) ? ReadJsonl(jsonlPath)
                : File.Exists(csvPath) ? ReadCsv(csvPath)
                : [];
            foreach (var r in existing)
                if (r.Step <= resume)
                    kept.Add(r);
        }

        // Rewrite both files from the kept rows (just the CSV header for a fresh run), atomically.
        var formatter = new RowFormatter();
        AtomicFile.Write(jsonlPath, s =>
        {
            foreach (var r in kept)
                formatter.WriteJson(r, s);
        });
        AtomicFile.Write(csvPath, s =>
        {
            s.Write(Encoding.ASCII.GetBytes(CsvHeader));
            foreach (var r in kept)
                formatter.WriteCsv(r, s);
        });

        FileStream? jsonl = null;
        try
        {
            jsonl = OpenAppend(jsonlPath);
            var csv = OpenAppend(csvPath);
            long last = 0;
            foreach (var r in kept)
                last = Math.Max(last, r.Step);
            return new MetricsLog(dir, jsonl, csv, last, kept.Count);
        }
        catch
        {
            jsonl?.Dispose();
            throw;
        }
    }

    /// <summary>Appends one row to both files and hands it to the operating system.</summary>
    /// <exception cref="ArgumentException">The record's step is not larger than <see cref="LastStep"/>.</exception>
    public void Append(TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (record.Step <= LastStep)
            throw new ArgumentException(
                $"Metrics step {record.Step} is not after the last logged step {LastStep}; steps must strictly increase.",
                nameof(record));

        _formatter.WriteJson(record, _jsonl);
        _formatter.WriteCsv(record, _csv);
        _jsonl.Flush();
        _csv.Flush();
        LastStep = record.Step;
        RowCount++;
    }

    /// <summary>Flushes both files to the operating system, and to the disk when <paramref name="toDisk"/> is true.</summary>
    public void Flush(bool toDisk = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _jsonl.Flush(toDisk);
        _csv.Flush(toDisk);
    }

    /// <summary>Flushes both files to disk and closes them.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            _jsonl.Flush(flushToDisk: true);
            _csv.Flush(flushToDisk: true);
        }
        finally
        {
            _jsonl.Dispose();
            _csv.Dispose();
        }
    }

    /// <summary>
    /// Reads the records of a metrics.jsonl file in file order. Blank lines are ignored, and so is a torn last line
    /// (no trailing newline and not valid JSON, as a kill mid-write can leave); any other malformed line throws
    /// <see cref="FormatException"/> naming the file and line.
    /// </summary>
    public static IReadOnlyList<TrainingRecord> ReadJsonl(string path)
    {
        string text = File.ReadAllText(path);
        var records = new List<TrainingRecord>();
        int lineNo = 0;
        int pos = 0;
        while (pos < text.Length)
        {
            int nl = text.IndexOf('\n', pos);
            bool terminated = nl >= 0;
            string line = text[pos..(terminated ? nl : text.Length)].Trim();
            pos = terminated ? nl + 1 : text.Length;
            lineNo++;
            if (line.Length == 0)
                continue;
            try
            {
                records.Add(ParseJsonLine(line));
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                if (!terminated)
                    break; // torn final line
                throw new FormatException($"{path}:{lineNo}: not a metrics record ({e.Message}).", e);
            }
        }
        return records;
    }

    /// <summary>
    /// Reads the records of a metrics.csv file in file order (header required, columns matched by name; a torn
    /// last line is ignored as in <see cref="ReadJsonl"/>).
    /// </summary>
    public static IReadOnlyList<TrainingRecord> ReadCsv(string path)
    {
        string[] lines = File.ReadAllText(path).Split('\n');
        var records = new List<TrainingRecord>();
        if (lines.Length == 0 || lines[0].Trim().Length == 0)
            return records;

        string[] header = lines[0].Trim().Split(',');
        int Col(string name)
        {
            int i = Array.IndexOf(header, name);
            return i >= 0 ? i : throw new FormatException($"{path}: header lacks column '{name}' (has: {lines[0].Trim()}).");
        }
        int cStep = Col("step"), cLoss = Col("loss"), cLr = Col("lr"), cGn = Col("grad_norm"), cSk = Col("skipped"),
            cMse = Col("eval_mse"), cRel = Col("eval_rel"), cRel2 = Col("eval_rel_l2"), cWall = Col("wall_seconds");

        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
                continue;
            bool terminated = i < lines.Length - 1;
            string[] cells = line.Split(',');
            try
            {
                if (cells.Length != header.Length)
                    throw new FormatException($"expected {header.Length} cells, found {cells.Length}");
                records.Add(new TrainingRecord(
                    long.Parse(cells[cStep], NumberStyles.Integer, CultureInfo.InvariantCulture),
                    ParseDouble(cells[cLoss]),
                    ParseDouble(cells[cLr]),
                    ParseDouble(cells[cGn]),
                    ParseBool(cells[cSk]),
                    ParseNullableDouble(cells[cMse]),
                    ParseNullableDouble(cells[cRel]),
                    ParseNullableDouble(cells[cRel2]),
                    ParseDouble(cells[cWall])));
            }
            catch (FormatException e)
            {
                if (!terminated)
                    break;
                throw new FormatException($"{path}:{i + 1}: not a metrics row ({e.Message}).", e);
            }
        }
        return records;
    }

    private static FileStream OpenAppend(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 4096);

    private static TrainingRecord ParseJsonLine(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var o = doc.RootElement;
        if (o.ValueKind != JsonValueKind.Object)
            throw new FormatException("line is not a JSON object");
        return new TrainingRecord(
            o.GetProperty("step").GetInt64(),
            JsonDouble(o.GetProperty("loss")),
            JsonDouble(o.GetProperty("lr")),
            JsonDouble(o.GetProperty("grad_norm")),
            o.TryGetProperty("skipped", out var sk) && sk.GetBoolean(),
            JsonNullableDouble(o, "eval_mse"),
            JsonNullableDouble(o, "eval_rel"),
            JsonNullableDouble(o, "eval_rel_l2"),
            JsonDouble(o.GetProperty("wall_seconds")));
    }

    private static double JsonDouble(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String => ParseDouble(e.GetString()!),
        _ => throw new FormatException($"expected a number, found {e.ValueKind}"),
    };

    private static double? JsonNullableDouble(JsonElement o, string name) =>
        o.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? JsonDouble(e) : null;

    private static double ParseDouble(string s) => s switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        _ => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static double? ParseNullableDouble(string s) => s.Length == 0 ? null : ParseDouble(s);

    private static bool ParseBool(string s) => s switch
    {
        "true" or "True" or "1" => true,
        "false" or "False" or "0" => false,
        _ => throw new FormatException($"'{s}' is not a boolean"),
    };

    /// <summary>Formats rows into reusable buffers so appending allocates nothing per step.</summary>
    private sealed class RowFormatter
    {
        private readonly char[] _chars = new char[1024];
        private readonly byte[] _bytes = new byte[1024];
        private int _len;

        public void WriteJson(TrainingRecord r, Stream s)
        {
            _len = 0;
            Lit("{\"step\":"); Long(r.Step);
            Lit(",\"loss\":"); Json(r.Loss);
            Lit(",\"lr\":"); Json(r.LearningRate);
            Lit(",\"grad_norm\":"); Json(r.GradNorm);
            Lit(",\"skipped\":"); Lit(r.Skipped ? "true" : "false");
            Lit(",\"eval_mse\":"); Json(r.EvalMse);
            Lit(",\"eval_rel\":"); Json(r.EvalRel);
            Lit(",\"eval_rel_l2\":"); Json(r.EvalRelL2);
            Lit(",\"wall_seconds\":"); Json(r.WallSeconds);
            Lit("}\n");
            Emit(s);
        }

        public void WriteCsv(TrainingRecord r, Stream s)
        {
            _len = 0;
            Long(r.Step);
            Lit(","); Num(r.Loss);
            Lit(","); Num(r.LearningRate);
            Lit(","); Num(r.GradNorm);
            Lit(","); Lit(r.Skipped ? "true" : "false");
            Lit(","); if (r.EvalMse is double m) Num(m);
            Lit(","); if (r.EvalRel is double e) Num(e);
            Lit(","); if (r.EvalRelL2 is double e2) Num(e2);
            Lit(","); Num(r.WallSeconds);
            Lit("\n");
            Emit(s);
        }

        private void Emit(Stream s)
        {
            // Everything written is ASCII: one byte per char.
            int n = Encoding.ASCII.GetBytes(_chars, 0, _len, _bytes, 0);
            s.Write(_bytes, 0, n);
        }

        private void Lit(string text)
        {
            text.AsSpan().CopyTo(_chars.AsSpan(_len));
            _len += text.Length;
        }

        private void Long(long v)
        {
            if (!v.TryFormat(_chars.AsSpan(_len), out int w, default, CultureInfo.InvariantCulture))
                throw new InvalidOperationException("Metrics row buffer too small.");
            _len += w;
        }

        private void Num(double v)
        {
            if (!v.TryFormat(_chars.AsSpan(_len), out int w, "R", CultureInfo.InvariantCulture))
                throw new InvalidOperationException("Metrics row buffer too small.");
            _len += w;
        }

        private void Json(double v)
        {
            if (double.IsFinite(v))
                Num(v);
            else
                Lit(double.IsNaN(v) ? "\"NaN\"" : v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        }

        private void Json(double? v)
        {
            if (v is double d)
                Json(d);
            else
                Lit("null");
        }
    }
}
