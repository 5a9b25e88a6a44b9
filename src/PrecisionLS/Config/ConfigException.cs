namespace PrecisionLS.Config;

/// <summary>A config, preset or command-line value that cannot be used; the message names the key and what is accepted.</summary>
public sealed class ConfigException(string message) : Exception(message)
{
    /// <summary>
    /// The message of an argument check without .NET's " (Parameter 'name')" suffix: the config message that wraps it
    /// already names the key, in the config's own spelling.
    /// </summary>
    public static string Reason(ArgumentException e)
    {
        string suffix = $" (Parameter '{e.ParamName}')";
        return e.ParamName is not null && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }
}
