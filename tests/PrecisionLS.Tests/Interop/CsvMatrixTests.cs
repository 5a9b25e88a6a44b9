using PrecisionLS.Interop;
using Xunit;

namespace PrecisionLS.Tests.Interop;

/// <summary>CSV/whitespace matrix text and <see cref="MatrixFile"/>'s checks on what the monarch command reads.</summary>
public class CsvMatrixTests
{
    [Theory]
    [InlineData("1,2,3\n4,5,6\n")]
    [InlineData("1 2 3\n4\t5  6")]
    [InlineData("a,b,c\n1, 2, 3\r\n4,5,6\r\n\r\n")]
    [InlineData("# written by np.savetxt\n1.000000000000000000e+00 2.0e0 3\n\n4 5 6\n")]
    [InlineData("x0 x1 x2\n1 2 3\n4 5 6")]
    public void Commas_or_whitespace_with_an_optional_header(string text)
    {
        var a = CsvMatrix.Parse(text, "m.csv");
        Assert.Equal(new[] { 2, 3 }, a.Shape);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, a.Values);
    }

    [Fact]
    public void Nan_and_inf_are_read()
    {
        var a = CsvMatrix.Parse("nan,-inf\nInfinity,NaN", "m.csv");
        Assert.True(double.IsNaN(a.Values![0]) && double.IsNegativeInfinity(a.Values[1]) && double.IsPositiveInfinity(a.Values[2]));
    }

    [Theory]
    [InlineData("1,2,3\n4,5\n", "matrix file 'm.csv': line 2 has 2 values, but line 1 (the first row) has 3")]
    [InlineData("h1,h2\n\n1,2\n3,4,5\n", "matrix file 'm.csv': line 4 has 3 values, but line 3 (the first row) has 2")]
    [InlineData("1,2\n3,x\n", "matrix file 'm.csv': line 2, column 2: 'x' is not a number")]
    [InlineData("1,2,\n", "matrix file 'm.csv': no numeric rows")]                // the only line has an empty field: a header
    [InlineData("1,2\n3,\n", "matrix file 'm.csv': line 2, column 2: empty value")]
    [InlineData("", "matrix file 'm.csv': no numeric rows")]
    [InlineData("a,b\n", "matrix file 'm.csv': no numeric rows")]
    public void Bad_text_is_refused_naming_the_line(string text, string expected)
    {
        Assert.Equal(expected, Assert.Throws<InvalidDataException>(() => CsvMatrix.Parse(text, "m.csv")).Message);
    }

    [Fact]
    public void MatrixFile_reads_npy_and_csv_and_refuses_what_the_projection_cannot_take()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pls-matrix-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string npy = Path.Combine(dir, "M.npy"), csv = Path.Combine(dir, "M.csv");
            double[] m = [1.5, -2, 1e-300, 3.25, 0, 7];
            MatrixFile.Write(npy, m, 2, 3);
            MatrixFile.Write(csv, m, 2, 3);
            Assert.Equal(m, MatrixFile.Read(npy).Values);
            Assert.Equal(m, MatrixFile.Read(csv).Values);

            string cube = Path.Combine(dir, "cube.npy");
            Npy.Write(cube, new double[8], [2, 2, 2]);
            Assert.Equal($"matrix file '{cube}': needs a 2-D array, got shape (2, 2, 2)", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(cube)).Message);
            string nan = Path.Combine(dir, "nan.npy");
            Npy.Write(nan, [1, 2, double.NaN, 4], [2, 2]);
            Assert.Equal($"matrix file '{nan}': entry (1, 0) is NaN; values must be finite", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(nan)).Message);
            string empty = Path.Combine(dir, "empty.npy");
            Npy.Write(empty, Array.Empty<double>(), [0, 3]);
            Assert.Contains("the matrix (0, 3) is empty", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(empty)).Message);
            string mat = Path.Combine(dir, "M.mat");
            File.WriteAllText(mat, "1");
            Assert.Equal($"matrix file '{mat}': unsupported extension '.mat'; accepted: .npy, .csv, .txt", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(mat)).Message);
            Assert.Throws<FileNotFoundException>(() => MatrixFile.Read(Path.Combine(dir, "missing.csv")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
