//! Audio files in: WAV with hound, everything else with symphonia, the container recognised by
//! content. Decoding is incremental: a file is read a packet at a time and converted as it goes,
//! so memory holds one packet of the source (an hour of 48 kHz stereo is ~2 GB as f32, its 16 kHz
//! mono conversion ~230 MB).

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{AudioError, SAMPLE_RATE, StreamResampler};

/// Frames per piece read from a WAV file: a quarter of a second at 16 kHz, less at higher rates.
const WAV_PIECE_FRAMES: usize = 4_096;

/// Times in a row symphonia may ask for a reset without a packet decoded in between: a chained
/// stream resets once per link, a broken one could ask forever.
const MAX_RESETS_IN_A_ROW: u32 = 4;

/// Audio as decoded from a file: mono, at the file's own sample rate.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Mono samples in [-1, 1] (channels averaged).
    pub samples: Vec<f32>,
    /// The file's sample rate in Hz (its first stream's, where a chained file changes it).
    pub sample_rate: u32,
    /// The file's channel count before down-mixing.
    pub channels: u16,
    /// The file ends before the audio it declares: what is there was decoded (and a warning logged).
    pub truncated: bool,
}

/// What decoding a file found besides its samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeInfo {
    /// The file's sample rate in Hz (its first stream's).
    pub sample_rate: u32,
    /// Its channel count (its first stream's).
    pub channels: u16,
    /// Frames (samples per channel) decoded from the file.
    pub frames: u64,
    /// The file ends before the audio it declares (a recording cut off mid-write, a damaged
    /// tail): what is there was decoded, and a warning logged.
    pub truncated: bool,
    /// The most source frames held at once: one packet, whatever the file's length.
    pub max_piece_frames: usize,
}

/// Decode any supported file and convert it to 16 kHz mono f32, ready for the models.
pub fn load_file(path: &Path) -> Result<Vec<f32>, AudioError> {
    let mut pcm = Vec::new();
    decode_to_16k(path, |piece| {
        pcm.extend_from_slice(piece);
        Ok(())
    })?;
    Ok(pcm)
}

/// Decode `path` piece by piece into 16 kHz mono, handing each converted piece to `sink` in
/// order: the source audio is never held whole, however long the file.
pub fn decode_to_16k(
    path: &Path,
    mut sink: impl FnMut(&[f32]) -> Result<(), AudioError>,
) -> Result<DecodeInfo, AudioError> {
    let mut mono = ToMono::new(Some(SAMPLE_RATE));
    let mut out = Vec::new();
    let info = decode_pieces(path, &mut |piece, rate, channels| {
        mono.push(piece, rate, channels, &mut out)?;
        let sent = sink(&out);
        out.clear();
        sent
    })?;
    mono.finish(&mut out)?;
    if !out.is_empty() {
        sink(&out)?;
    }
    Ok(info)
}

/// Decode a file to mono f32 at its own rate; the container is recognised by content, not by name.
pub fn decode_file(path: &Path) -> Result<Decoded, AudioError> {
    let mut mono = ToMono::new(None);
    let mut samples = Vec::new();
    let info = decode_pieces(path, &mut |piece, rate, channels| mono.push(piece, rate, channels, &mut samples))?;
    mono.finish(&mut samples)?;
    Ok(Decoded { samples, sample_rate: info.sample_rate, channels: info.channels, truncated: info.truncated })
}

/// Down-mixes pieces to mono at one rate: `to_rate`, or the first piece's. A chained stream may
/// change rate and channels part-way; each run of one format gets its own resampler.
struct ToMono {
    to_rate: Option<u32>,
    stage: Option<(u32, u16, StreamResampler)>,
}

impl ToMono {
    fn new(to_rate: Option<u32>) -> Self {
        Self { to_rate, stage: None }
    }

    fn push(&mut self, interleaved: &[f32], rate: u32, channels: u16, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let to_rate = *self.to_rate.get_or_insert(rate);
        let stage = match self.stage.take() {
            Some((r, c, stage)) if (r, c) == (rate, channels) => stage,
            previous => {
                if let Some((_, _, mut old)) = previous {
                    old.finish(out)?;
                }
                StreamResampler::new(rate, channels, to_rate)?
            }
        };
        let stage = &mut self.stage.insert((rate, channels, stage)).2;
        stage.push(interleaved, out)
    }

    fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        match self.stage.take() {
            Some((_, _, mut stage)) => stage.finish(out),
            None => Ok(()),
        }
    }
}

/// Where a decoder sends each piece: interleaved samples, their rate and channel count.
type PieceSink<'a> = dyn FnMut(&[f32], u32, u16) -> Result<(), AudioError> + 'a;

/// Counts what went to the sink.
#[derive(Default)]
struct Tally {
    format: Option<(u32, u16)>,
    frames: u64,
    max_piece_frames: usize,
}

impl Tally {
    fn send(&mut self, sink: &mut PieceSink, piece: &[f32], rate: u32, channels: u16) -> Result<(), AudioError> {
        if rate == 0 {
            return Err(AudioError::SampleRate(0));
        }
        let frames = piece.len() / channels.max(1) as usize;
        if frames == 0 {
            return Ok(());
        }
        self.format.get_or_insert((rate, channels));
        self.frames += frames as u64;
        self.max_piece_frames = self.max_piece_frames.max(frames);
        sink(piece, rate, channels)
    }

    fn info(self, path: &Path, truncated: bool) -> Result<DecodeInfo, AudioError> {
        let Some((sample_rate, channels)) = self.format else {
            return Err(AudioError::NoSamples { path: path.to_path_buf() });
        };
        Ok(DecodeInfo {
            sample_rate,
            channels,
            frames: self.frames,
            truncated,
            max_piece_frames: self.max_piece_frames,
        })
    }
}

/// Decode `path` a piece at a time into `sink`.
fn decode_pieces(path: &Path, sink: &mut PieceSink) -> Result<DecodeInfo, AudioError> {
    let io = |source| AudioError::Io { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Err(AudioError::Empty { path: path.to_path_buf() });
    }
    let mut magic = [0u8; 12];
    let n = read_up_to(&mut file, &mut magic).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    if n == 12 && &magic[0..4] == b"RIFF" && &magic[8..12] == b"WAVE" {
        match decode_wav(file, path, sink)? {
            Some(info) => return Ok(info),
            // WAV codecs hound does not read (ADPCM, A-law, ...) go to symphonia.
            None => return decode_with_symphonia(File::open(path).map_err(io)?, path, sink),
        }
    }
    decode_with_symphonia(file, path, sink)
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Reads PCM/float WAV with hound; `Ok(None)` means "valid WAV, codec hound does not handle".
/// A data chunk that declares more than the file holds (a recorder killed mid-file) gives what
/// is there, with a warning; a cut inside a sample or frame drops that partial frame.
fn decode_wav(file: File, path: &Path, sink: &mut PieceSink) -> Result<Option<DecodeInfo>, AudioError> {
    let corrupt = |detail: String| AudioError::Corrupt { path: path.to_path_buf(), detail };
    let reader = match hound::WavReader::new(BufReader::new(file)) {
        Ok(reader) => reader,
        Err(hound::Error::Unsupported) => return Ok(None),
        Err(e) if is_short_read(&e) => return Err(corrupt("the WAV header is cut short".into())),
        Err(e) => return Err(corrupt(e.to_string())),
    };
    let spec = reader.spec();
    // Recorders write 1 to 8 channels, some interfaces a few dozen: a header declaring
    // thousands is damage, and would size every piece by it.
    if spec.channels == 0 || spec.channels > 64 {
        return Err(corrupt(format!("the WAV header declares {} channels", spec.channels)));
    }
    if spec.sample_rate == 0 {
        return Err(AudioError::SampleRate(0));
    }
    let declared = reader.len() as u64;
    let channels = spec.channels as usize;
    let mut tally = Tally::default();
    let mut piece = Vec::with_capacity(WAV_PIECE_FRAMES * channels);
    let mut send = |piece: &mut Vec<f32>, tally: &mut Tally| {
        // Whole frames only: a cut inside a frame leaves a partial one behind.
        let whole = piece.len() / channels * channels;
        let sent = tally.send(sink, &piece[..whole], spec.sample_rate, spec.channels);
        piece.clear();
        sent
    };
    let mut cut = None;
    let samples: Box<dyn Iterator<Item = Result<f32, hound::Error>>> = match spec.sample_format {
        hound::SampleFormat::Float => Box::new(reader.into_samples::<f32>()),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            Box::new(reader.into_samples::<i32>().map(move |s| s.map(|v| v as f32 * scale)))
        }
    };
    for sample in samples {
        match sample {
            Ok(v) => piece.push(v),
            Err(e) if is_short_read(&e) => {
                cut = Some(e);
                break;
            }
            Err(e) => return Err(corrupt(e.to_string())),
        }
        if piece.len() == WAV_PIECE_FRAMES * channels {
            send(&mut piece, &mut tally)?;
        }
    }
    send(&mut piece, &mut tally)?;
    let truncated = cut.is_some();
    if truncated {
        let found = tally.frames * channels as u64;
        if found == 0 {
            return Err(corrupt(format!("the data chunk declares {declared} samples but the file ends before them")));
        }
        tracing::warn!(
            path = %path.display(),
            "the WAV data chunk declares {declared} samples but the file ends after {found}: decoded what is there"
        );
    }
    tally.info(path, truncated).map(Some)
}

/// hound reports running out of bytes as an EOF or as a plain I/O error with this message.
fn is_short_read(e: &hound::Error) -> bool {
    match e {
        hound::Error::IoError(io) => io.kind() == ErrorKind::UnexpectedEof || io.to_string().contains("enough bytes"),
        _ => false,
    }
}

/// The first decodable track and a decoder for it.
fn open_track(format: &dyn FormatReader) -> Option<(Track, Box<dyn Decoder>)> {
    let track = format.tracks().iter().find(|t| t.codec_params.codec != CODEC_TYPE_NULL)?.clone();
    let decoder = symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default()).ok()?;
    Some((track, decoder))
}

fn decode_with_symphonia(file: File, path: &Path, sink: &mut PieceSink) -> Result<DecodeInfo, AudioError> {
    let path_buf = || PathBuf::from(path);
    let corrupt = |detail: String| AudioError::Corrupt { path: path_buf(), detail };
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|_| AudioError::Unsupported { path: path_buf() })?;
    let mut format = probed.format;
    let (mut track, mut decoder) =
        open_track(format.as_ref()).ok_or_else(|| AudioError::Unsupported { path: path_buf() })?;
    // Frames the container declares, summed over the links of a chained stream.
    let mut declared = track.codec_params.n_frames;

    let mut tally = Tally::default();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    let (mut good, mut bad) = (0usize, 0usize);
    let mut resets = 0;
    let mut damaged = false;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            // The track list changed (a chained Ogg's next link, maybe at another rate): as
            // symphonia documents, re-read the tracks and make a new decoder.
            Err(SymError::ResetRequired) => {
                resets += 1;
                if resets > MAX_RESETS_IN_A_ROW {
                    return Err(corrupt("the stream keeps restarting without audio".into()));
                }
                (track, decoder) = open_track(format.as_ref())
                    .ok_or_else(|| corrupt("a chained stream continues with no decodable track".into()))?;
                declared = declared.zip(track.codec_params.n_frames).map(|(a, b)| a.saturating_add(b));
                buffer = None;
                continue;
            }
            // A damaged tail after good audio keeps what was decoded (a recording cut off mid-write).
            Err(e) if good > 0 => {
                tracing::warn!(path = %path.display(), "stopped decoding at a damaged packet: {e}");
                damaged = true;
                break;
            }
            Err(e) => return Err(corrupt(e.to_string())),
        };
        if packet.track_id() != track.id {
            continue;
        }
        let reset = match decoder.decode(&packet) {
            Ok(audio) => {
                let spec = *audio.spec();
                let channels = spec.channels.count();
                let buf = buffer.get_or_insert_with(|| SampleBuffer::new(audio.capacity() as u64, spec));
                if buf.capacity() < audio.capacity() * channels {
                    *buf = SampleBuffer::new(audio.capacity() as u64, spec);
                }
                buf.copy_interleaved_ref(audio);
                tally.send(sink, buf.samples(), spec.rate, channels as u16)?;
                good += 1;
                resets = 0;
                false
            }
            // Symphonia's advice: skip a packet that fails to decode, keep going.
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                bad += 1;
                false
            }
            Err(SymError::ResetRequired) => true,
            Err(e) => return Err(corrupt(e.to_string())),
        };
        // The decoder's output format changes from here: a fresh decoder for the track.
        if reset {
            decoder = symphonia::default::get_codecs()
                .make(&track.codec_params, &DecoderOptions::default())
                .map_err(|e| corrupt(e.to_string()))?;
            buffer = None;
        }
    }
    // Random bytes can fake a frame sync now and then; real files decode nearly every packet.
    if bad > good {
        return Err(corrupt(format!("{bad} of {} packets failed to decode", good + bad)));
    }
    // A container that declares its length shows a cut: more than a packet's worth missing.
    let short = declared.is_some_and(|n| tally.frames + tally.max_piece_frames as u64 * 2 < n);
    if short && !damaged {
        tracing::warn!(
            path = %path.display(),
            "the stream declares {} frames but ends after {}: decoded what is there",
            declared.unwrap_or_default(),
            tally.frames
        );
    }
    tally.info(path, damaged || short)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, frames: &[f32]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &s in frames {
            for _ in 0..channels {
                w.write_sample((s * 32767.0) as i16).unwrap();
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn stereo_wav_is_downmixed_and_resampled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let tone: Vec<f32> = (0..44_100).map(|i| (i as f32 * 0.05).sin() * 0.25).collect();
        write_wav(&path, 44_100, 2, &tone);
        let d = decode_file(&path).unwrap();
        assert_eq!((d.sample_rate, d.channels, d.samples.len()), (44_100, 2, 44_100));
        assert!((d.samples[100] - tone[100]).abs() < 1e-3);
        let pcm = load_file(&path).unwrap();
        assert!((pcm.len() as i64 - 16_000).abs() <= 2);
    }

    #[test]
    fn a_change_of_rate_and_channels_midway_is_converted_too() {
        // A chained stream's second link at another rate and channel count: each run gets its
        // own resampler, and the output is one continuous mono signal at the target rate.
        let tone = |rate: u32, channels: usize, secs: f32| -> Vec<f32> {
            let n = (rate as f32 * secs) as usize;
            (0..n)
                .flat_map(|i| vec![(i as f32 * 440.0 / rate as f32 * std::f32::consts::TAU).sin() * 0.5; channels])
                .collect()
        };
        for to_rate in [Some(SAMPLE_RATE), None] {
            let mut mono = ToMono::new(to_rate);
            let mut out = Vec::new();
            for piece in tone(44_100, 2, 0.5).chunks(2 * 1_000) {
                mono.push(piece, 44_100, 2, &mut out).unwrap();
            }
            for piece in tone(16_000, 1, 0.5).chunks(700) {
                mono.push(piece, 16_000, 1, &mut out).unwrap();
            }
            mono.finish(&mut out).unwrap();
            // In decode_file's mode the first link's rate (44.1 kHz) is kept for the whole file.
            let rate = to_rate.unwrap_or(44_100) as f32;
            assert!((out.len() as f32 - rate).abs() <= 4.0, "{to_rate:?}: {} samples", out.len());
            let rms = (out.iter().map(|x| x * x).sum::<f32>() / out.len() as f32).sqrt();
            assert!((rms - 0.3536).abs() < 0.02, "{to_rate:?}: the tone survives both links, rms {rms}");
        }
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(load_file(&empty), Err(AudioError::Empty { .. })));

        let missing = dir.path().join("missing.wav");
        assert!(matches!(load_file(&missing), Err(AudioError::Io { .. })));

        let zero = dir.path().join("zero.wav");
        write_wav(&zero, 16_000, 1, &[]);
        assert!(matches!(load_file(&zero), Err(AudioError::NoSamples { .. })), "{:?}", load_file(&zero));

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "just some words, not audio\n".repeat(50)).unwrap();
        assert!(matches!(load_file(&text), Err(AudioError::Unsupported { .. })));
    }
}
