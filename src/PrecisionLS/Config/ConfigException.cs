namespace PrecisionLS.Config;

/// <summary>A config, preset or command-line value that cannot be used; the message names the key and what is accepted.</summary>
public sealed class ConfigException(string message) : Exception(message);
