; Inno Setup script for the Windows installer.
; Build the bundle first (pyinstaller installer\station.spec --noconfirm), then:
;   iscc installer\station.iss
[Setup]
AppName=Station
AppVersion=0.1.0
AppPublisher=Station
DefaultDirName={autopf}\Station
DefaultGroupName=Station
OutputBaseFilename=StationSetup
OutputDir=..\dist
Compression=lzma2
SolidCompression=yes
SetupIconFile=station.ico
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "..\dist\Station\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Station"; Filename: "{app}\Station.exe"
Name: "{autodesktop}\Station"; Filename: "{app}\Station.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; Flags: unchecked

[Run]
Filename: "{app}\Station.exe"; Description: "Open Station"; Flags: nowait postinstall skipifsilent
