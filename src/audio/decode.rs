use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{AudioError, SAMPLE_RATE, resample_mono};

/// Audio as decoded from a file: mono, at the file's own sample rate.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Mono samples in [-1, 1] (channels averaged).
    pub samples: Vec<f32>,
    /// The file's sample rate in Hz.
    pub sample_rate: u32,
    /// The file's channel count before down-mixing.
    pub channels: u16,
}

/// Decode any supported file and convert it to 16 kHz mono f32, ready for the models.
pub fn load_file(path: &Path) -> Result<Vec<f32>, AudioError> {
    let decoded = decode_file(path)?;
    resample_mono(&decoded.samples, decoded.sample_rate, SAMPLE_RATE)
}

/// Decode a file to mono f32 at its own rate; the container is recognised by content, not by name.
pub fn decode_file(path: &Path) -> Result<Decoded, AudioError> {
    let io = |source| AudioError::Io { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Err(AudioError::Empty { path: path.to_path_buf() });
    }
    let mut magic = [0u8; 12];
    let n = read_up_to(&mut file, &mut magic).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let decoded = if n == 12 && &magic[0..4] == b"RIFF" && &magic[8..12] == b"WAVE" {
        match decode_wav(file, path)? {
            Some(decoded) => decoded,
            // WAV codecs hound does not read (ADPCM, A-law, ...) go to symphonia.
            None => decode_with_symphonia(File::open(path).map_err(io)?, path)?,
        }
    } else {
        decode_with_symphonia(file, path)?
    };
    if decoded.samples.is_empty() {
        return Err(AudioError::NoSamples { path: path.to_path_buf() });
    }
    Ok(decoded)
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
fn decode_wav(file: File, path: &Path) -> Result<Option<Decoded>, AudioError> {
    let corrupt = |detail: String| AudioError::Corrupt { path: path.to_path_buf(), detail };
    let reader = match hound::WavReader::new(BufReader::new(file)) {
        Ok(reader) => reader,
        Err(hound::Error::Unsupported) => return Ok(None),
        Err(e) if is_short_read(&e) => return Err(corrupt("the WAV header is cut short".into())),
        Err(e) => return Err(corrupt(e.to_string())),
    };
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(corrupt("the WAV header declares zero channels".into()));
    }
    if spec.sample_rate == 0 {
        return Err(AudioError::SampleRate(0));
    }
    let declared = reader.len() as usize;
    let channels = spec.channels as usize;
    let interleaved: Result<Vec<f32>, hound::Error> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader.into_samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect()
        }
    };
    let interleaved = interleaved.map_err(|e| {
        if is_short_read(&e) {
            corrupt(format!("the data chunk declares {declared} samples but the file ends before them"))
        } else {
            corrupt(e.to_string())
        }
    })?;
    Ok(Some(Decoded {
        samples: downmix(&interleaved, channels),
        sample_rate: spec.sample_rate,
        channels: spec.channels,
    }))
}

/// hound reports running out of bytes as an EOF or as a plain I/O error with this message.
fn is_short_read(e: &hound::Error) -> bool {
    match e {
        hound::Error::IoError(io) => io.kind() == ErrorKind::UnexpectedEof || io.to_string().contains("enough bytes"),
        _ => false,
    }
}

fn decode_with_symphonia(file: File, path: &Path) -> Result<Decoded, AudioError> {
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
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::Unsupported { path: path_buf() })?;
    let track_id = track.id;
    let mut sample_rate = track.codec_params.sample_rate;
    let mut channels = track.codec_params.channels.map(|c| c.count() as u16);
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|_| AudioError::Unsupported { path: path_buf() })?;

    let mut mono = Vec::new();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    let (mut good, mut bad) = (0usize, 0usize);
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            // A damaged tail after good audio keeps what was decoded (a recording cut off mid-write).
            Err(e) if good > 0 => {
                tracing::warn!(path = %path.display(), "stopped decoding at a damaged packet: {e}");
                break;
            }
            Err(e) => return Err(corrupt(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(audio) => {
                let spec = *audio.spec();
                sample_rate = Some(spec.rate);
                channels = Some(spec.channels.count() as u16);
                let buf = buffer.get_or_insert_with(|| SampleBuffer::new(audio.capacity() as u64, spec));
                if buf.capacity() < audio.capacity() * spec.channels.count() {
                    *buf = SampleBuffer::new(audio.capacity() as u64, spec);
                }
                buf.copy_interleaved_ref(audio);
                mono.extend(downmix(buf.samples(), spec.channels.count()));
                good += 1;
            }
            // Symphonia's advice: skip a packet that fails to decode, keep going.
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => bad += 1,
            Err(e) => return Err(corrupt(e.to_string())),
        }
    }
    // Random bytes can fake a frame sync now and then; real files decode nearly every packet.
    if bad > good {
        return Err(corrupt(format!("{bad} of {} packets failed to decode", good + bad)));
    }
    let sample_rate = sample_rate.ok_or_else(|| corrupt("no sample rate in the stream".into()))?;
    if sample_rate == 0 {
        return Err(AudioError::SampleRate(0));
    }
    Ok(Decoded { samples: mono, sample_rate, channels: channels.unwrap_or(1) })
}

fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() * scale).collect()
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
